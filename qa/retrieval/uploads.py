"""A pasted or uploaded text, usable at once: it answers from its keyword index within
seconds while its dense side is embedded in the background, and the dense side joins when it
is ready. A text whose index is already in the cache (the same text again, found by its
content hash) is whole at once."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from qa.retrieval.archive_sync import keyed_chunks
from qa.ingest.chunks import CHUNK_OVERLAP, CHUNK_SIZE, split_documents
from qa.ingest.corpus import Document
from qa.retrieval.cached_index import load_cached, load_or_build
from qa.retrieval.retriever import Retriever
from qa.retrieval.stores.base import text_sha256
from qa.retrieval.stores.memory import MemoryStore
from qa.retrieval.upload_budget import prune, touch
from qa.settings import KEPT_UPLOADS

KEYWORDS_FIRST_CHUNKS = 64  # above this many chunks (2-3 s of embedding) a text answers from keywords first
log = logging.getLogger("qa.retrieval.uploads")


def upload_collection(document: Document) -> str:
    """The shared store's collection of an uploaded text, named by its content hash."""
    return f"qa_upload_{text_sha256(document.text)[:32]}"


class Indexer:
    """Builds retrievers for texts; dense indexes are embedded by one background worker, one
    text at a time, so uploads queue rather than share the cores. With ``shared`` (a Milvus
    server every app replica reaches), a text is also kept there, in a collection named by its
    hash, once its index is built; a replica that meets the same text again finds it there
    whole and embeds nothing."""

    def __init__(self, embedder, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP, shared=None, kept_uploads: int = KEPT_UPLOADS):
        """``kept_uploads``: how many uploaded texts the shared store keeps (the least recently
        used beyond are dropped: :mod:`qa.retrieval.upload_budget`)."""
        self.embedder = embedder
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.shared = shared
        self.kept_uploads = kept_uploads
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="qa-embed")

    def warm_up(self) -> Future:
        """Load the passage graph in the background (seconds; an export on a fresh machine),
        so that the first upload's dense side does not wait for it."""
        return self.worker.submit(lambda: self.embedder.passage_graph)

    def retriever(self, documents: list[Document]) -> tuple[Retriever, Future | None]:
        """A retriever over ``documents`` now, and the future of its dense side (``None`` when it is whole already)."""
        settings = (self.chunk_size, self.chunk_overlap)
        chunks = split_documents(documents, *settings)
        shared = self.shared.sibling(upload_collection(documents[0])) if self.shared is not None and len(documents) == 1 else None
        if shared is not None and len(shared) == len(chunks):  # a replica has written it whole
            log.info("%s: found in the shared store by its hash (%d chunks)", documents[0].doc_id, len(chunks))
            touch(shared)
            return Retriever(store=shared, embedder=self.embedder, documents=documents), None
        if len(chunks) <= KEYWORDS_FIRST_CHUNKS:
            retriever = Retriever(documents=documents, embedder=self.embedder, chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap)
            self._share(shared, documents[0], retriever.index)
            return retriever, None
        cached = load_cached(documents, *settings, self.embedder)
        if cached:
            self._share(shared, documents[0], cached)
            return Retriever(store=MemoryStore(documents, cached.chunks, cached.faiss_index, cached.tokens), embedder=self.embedder), None
        store = MemoryStore(documents, chunks)
        store.bm25  # the keyword index, now: the first question must not wait for it
        return Retriever(store=store, embedder=self.embedder), self.worker.submit(self._dense, store, documents, shared)

    def _dense(self, store: MemoryStore, documents: list[Document], shared=None) -> None:
        try:
            index = load_or_build(documents, self.chunk_size, self.chunk_overlap, self.embedder)
            store.chunks, store.faiss_index = index.chunks, index.faiss_index  # the same split, so the same chunks
            self._share(shared, documents[0], index)
        except Exception:  # the text keeps answering from keywords
            log.exception("building the dense index of an uploaded text failed")
            raise

    def _share(self, collection, document: Document, index) -> None:
        """Keep a text's chunks and vectors in its shared ``collection`` (none: no shared store),
        unless a replica has begun writing them there."""
        if collection is None or len(collection):
            return
        vectors = index.faiss_index.reconstruct_n(0, len(index.chunks))
        collection.add([(document, keyed_chunks(document, self.chunk_size, self.chunk_overlap), vectors)])
        collection.commit()
        touch(collection)
        prune(collection, self.kept_uploads)
