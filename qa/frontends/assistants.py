"""The assistants a server answers with: the default one (its corpus or store) and those of
uploaded documents, kept by content hash (gradio-free: the chat and the REST API share them)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future

from qa.assistant import Assistant
from qa.ingest.corpus import Document, corpus_hash

KEPT_DOCUMENTS = 8  # uploaded documents whose assistants stay in memory (their indexes stay in the cache)
INDEXING_CLIENTS = 4  # clients that may have a document being indexed at once (the indexing queue's bound)


class Busy(Exception):
    """The client already has a document being indexed, or the indexing queue is full."""


class DocumentAssistants:
    """The default assistant and those of uploaded documents, keyed by content hash; every
    assistant shares the default one's reader and embedder. A long text answers from keywords
    at once while its dense index is embedded in the background (:mod:`qa.retrieval.uploads`)."""

    def __init__(self, default: Assistant):
        from qa.retrieval.uploads import Indexer

        self.default = default
        self.uploaded: OrderedDict[str, Assistant] = OrderedDict()
        store = default.retriever.store
        self.indexer = Indexer(default.retriever.embedder, shared=store if getattr(store, "shared", False) else None, kept_uploads=default.settings.kept_uploads)
        self.indexer.warm_up()
        self.pending: dict[str, Future] = {}
        self.lock = threading.Lock()  # the chat's and the REST API's threads add documents
        self.indexing: set[str] = set()  # the clients with a document being indexed
        self.indexing_lock = threading.Lock()

    def get(self, key: str | None) -> Assistant:
        return self.uploaded.get(key, self.default) if key else self.default

    def add(self, document: Document, client: str | None = None) -> str:
        """Index ``document`` (or reuse its index) and return its key. With ``client`` (a browser
        session, an IP): at most one document of that client is being indexed at a time, its
        dense side included, and at most :data:`INDEXING_CLIENTS` clients at once; past either,
        :class:`Busy`."""
        key = corpus_hash([document])
        if client is None or key in self.uploaded:
            with self.lock:
                return self._add(key, document)
        with self.indexing_lock:
            if client in self.indexing or len(self.indexing) >= INDEXING_CLIENTS:
                raise Busy("a document of yours is still being indexed, or the queue is full")
            self.indexing.add(client)
        try:
            with self.lock:
                key = self._add(key, document)
        except BaseException:
            self._done(client)
            raise
        pending = self.pending.get(key)
        if pending is None:
            self._done(client)
        else:
            pending.add_done_callback(lambda _: self._done(client))
        return key

    def _done(self, client: str) -> None:
        with self.indexing_lock:
            self.indexing.discard(client)

    def _add(self, key: str, document: Document) -> str:
        if key in self.uploaded and not _kept(self.uploaded[key]):  # its shared collection was dropped past the budget
            del self.uploaded[key]
        if key not in self.uploaded:
            retriever, dense = self.indexer.retriever([document])
            if dense is not None:
                self.pending[key] = dense
                dense.add_done_callback(lambda _: self.pending.pop(key, None))
            self.uploaded[key] = Assistant(retriever, self.default.reader, settings=self.default.settings)
            while len(self.uploaded) > KEPT_DOCUMENTS:
                self.uploaded.popitem(last=False)
        self.uploaded.move_to_end(key)
        return key


def _kept(assistant: Assistant) -> bool:
    """Whether an upload's index is still there: a shared Milvus drops the least recently used
    past its budget (:mod:`qa.retrieval.upload_budget`); an in-process one is always kept."""
    store = assistant.retriever.store
    return not hasattr(store, "client") or store.client.has_collection(store.collection)
