"""Hybrid retrieval: dense e5 + BM25 over jieba tokens, fused (:mod:`qa.retrieval.fusion`), over a store
(:mod:`qa.retrieval.stores`): in this process (the default), a FAISS archive folder, or Milvus."""

from __future__ import annotations

import threading
from pathlib import Path

from qa.ingest.chunks import CHUNK_OVERLAP, CHUNK_SIZE, Chunk
from qa.ingest.corpus import Document, load_corpus
from qa.encoders.embedder import Embedder
from qa.retrieval.fusion import fuse
from qa.retrieval.stores.base import Ranking, Store
from qa.retrieval.stores.memory import MemoryStore
from qa.settings import FUSION_LEAD
from qa.text.segment import load_dictionary
from qa.types import Hit

MODES = ("dense", "bm25", "hybrid")
FUSION_DEPTH = 50  # ranks taken from each method before fusing


class Retriever:
    """Search a corpus (default: the bundled article) or a store for the chunks that answer a question.

    >>> hits = Retriever().search("长安汽车新能源汽车年销量突破了多少？", k=5)
    >>> hits = Retriever(store="archive.db").search("…")  # a Milvus Lite file built by qa index --store
    """

    def __init__(
        self,
        corpus: list[str | Path] | None = None,
        chunk_size: int = CHUNK_SIZE,
        chunk_overlap: int = CHUNK_OVERLAP,
        index_dir: Path | None = None,
        embedder: Embedder | None = None,
        documents: list[Document] | None = None,
        store: Store | str | None = None,
        fusion_lead: float | None = FUSION_LEAD,
    ):
        """``store``: a :class:`Store`, or a URI (:func:`qa.retrieval.stores.open_store`: a folder, a ``.db``
        file, ``http://host:19530``) holding an archive (with ``documents``: the few it holds,
        listed); else the ``corpus`` files or ``documents`` are indexed here (the index cached by
        content, :mod:`qa.retrieval.cached_index`). ``fusion_lead``: how far a ranking's first
        hit must lead to stay first in the fusion (:func:`qa.retrieval.fusion.fuse`)."""
        self.embedder = embedder or Embedder()
        self.fusion_lead = fusion_lead
        self.index = None
        self._listed = list(documents or []) if store is not None else []
        if isinstance(store, str):
            from qa.retrieval.archive_sync import store_meta
            from qa.retrieval.stores import open_store

            store = open_store(store, store_meta(self.embedder, chunk_size, chunk_overlap))
        if store is None:
            from qa.retrieval.cached_index import load_or_build

            documents = documents or load_corpus(corpus)
            self.index = load_or_build(documents, chunk_size, chunk_overlap, self.embedder, index_dir)
            store = MemoryStore(documents, self.index.chunks, self.index.faiss_index, self.index.tokens)
        self.store: Store = store

    def warm_up(self) -> threading.Thread:
        """Load, in the background, what the first question would otherwise wait for: jieba's
        dictionary (0.3 s, :func:`qa.text.segment.load_dictionary`), the keyword index and the
        query encoder. The thread is not a daemon: a process that ends while it runs waits for it
        (ending inside its native code aborted the process)."""

        def load() -> None:
            load_dictionary()
            if isinstance(self.store, MemoryStore):
                self.store.bm25
            if not self.keywords_only:
                self.embedder.query("预热")

        thread = threading.Thread(target=load, name="qa-warm-up")
        thread.start()
        return thread

    @property
    def documents(self) -> list[Document]:
        """The documents of an in-process store, or those listed with a store (an archive's are
        too many to list: ``[]``)."""
        return self.store.documents if isinstance(self.store, MemoryStore) else self._listed

    @property
    def chunks(self) -> list[Chunk]:
        """The chunks of an in-process store (``[]`` for an archive)."""
        return self.store.chunks if isinstance(self.store, MemoryStore) else []

    @property
    def keywords_only(self) -> bool:
        """The dense side is not ready yet (a big text being indexed): hybrid search uses keywords alone."""
        return isinstance(self.store, MemoryStore) and not self.store.has_dense

    def document_text(self, doc_id: str) -> str:
        return self.store.document_text(doc_id)

    def page_at(self, doc_id: str, offset: int) -> int | None:
        """The PDF page (1-based) of ``doc_id`` that holds character ``offset``; ``None`` for a
        format without pages, or a document kept in an archive (which keeps no pages)."""
        document = next((d for d in self.documents if d.doc_id == doc_id), None)
        return document.page_at(offset) if document is not None else None

    def hit_at(self, doc_id: str, offset: int) -> Hit | None:
        """The chunk of ``doc_id`` that holds character ``offset``, as a hit without scores."""
        c = self.store.chunk_at(doc_id, offset)
        return Hit(c.text, c.doc_id, c.chunk_id, c.start, c.end, 0.0) if c else None

    def find(self, text: str) -> tuple[str, int] | None:
        """``(doc_id, offset)`` of an occurrence of ``text`` in the corpus."""
        return self.store.find(text)

    def rankings(self, question: str, mode: str = "hybrid", depth: int = FUSION_DEPTH) -> dict[str, Ranking]:
        """``(chunk, score)`` lists per method that ``mode`` uses, best first."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not question or not question.strip():
            raise ValueError("the question is empty")
        if mode == "dense" and self.keywords_only:
            raise ValueError("the dense index is still being built: search with mode 'bm25' or 'hybrid' meanwhile")
        rankings = {}
        if mode in ("dense", "hybrid") and not self.keywords_only:
            rankings["dense"] = self.store.dense(self.embedder.query(question), depth)
        if mode in ("bm25", "hybrid"):
            rankings["bm25"] = self.store.keyword(question, depth)
        return rankings

    def search(self, question: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Top ``k`` chunks for ``question`` by ``mode`` (dense, bm25 or hybrid); ``k`` must be at least 1."""
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, not {k!r}")
        return fuse(self.rankings(question, mode), k, self.fusion_lead)
