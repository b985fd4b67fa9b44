"""The embedded store: FAISS over the vectors and bm25s over the jieba tokens, in this process.

Up to ``EXACT_LIMIT`` chunks the FAISS index is exact (``IndexFlatIP``); above it, an HNSW graph
(``M`` 32, ``efSearch`` 128), whose recall against exact search ``eval/archive.py`` measures.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from qa.ingest.chunks import Chunk
from qa.ingest.corpus import Document
from qa.retrieval.stores.base import Ranking, Store
from qa.text.segment import tokenize

EXACT_LIMIT = 200_000  # chunks; flat search over 200,000 x 384 takes about 10 ms on 2 cores (README, "Archives")
HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80


def faiss_index(vectors: np.ndarray, exact_limit: int | None = None):
    """An inner-product FAISS index over ``vectors``: exact up to ``exact_limit`` rows (default
    :data:`EXACT_LIMIT`), else HNSW."""
    import faiss

    exact_limit = EXACT_LIMIT if exact_limit is None else exact_limit
    dim = vectors.shape[1]
    if len(vectors) <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def bm25_index(token_lists: list[list[str]]):
    """A ``bm25s.BM25`` over token lists (an empty one stands as ``∅``, which no question has)."""
    import bm25s

    model = bm25s.BM25()
    model.index([tokens or ["∅"] for tokens in token_lists], show_progress=False)
    return model


class MemoryStore(Store):
    """``chunks[i]`` is row ``i`` of ``faiss_index`` (``None``: keywords only, while the dense
    side is being built); ``documents`` are the texts the chunks come from."""

    uri = "memory"

    def __init__(self, documents: list[Document], chunks: list[Chunk], faiss_index=None, tokens: list[list[str]] | None = None):
        self.documents = documents
        self.chunks = chunks
        self.faiss_index = faiss_index
        self._tokens = tokens
        self._texts = {d.doc_id: d.text for d in documents}

    def __len__(self) -> int:
        return len(self.chunks)

    @cached_property
    def bm25(self):
        return bm25_index(self._tokens if self._tokens is not None else [tokenize(c.text) for c in self.chunks])

    @property
    def has_dense(self) -> bool:
        return self.faiss_index is not None

    def dense(self, vector: np.ndarray, depth: int) -> Ranking:
        if self.faiss_index is None or not self.chunks:
            return []
        scores, ids = self.faiss_index.search(vector, min(depth, len(self.chunks)))
        return [(self.chunks[i], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword(self, question: str, depth: int) -> Ranking:
        tokens = tokenize(question)
        if not tokens or not self.chunks:
            return []
        scores = self.bm25.get_scores(tokens)
        order = np.argsort(-scores, kind="stable")[:depth]
        return [(self.chunks[i], float(scores[i])) for i in order if scores[i] > 0]  # no shared word: no keyword hit

    def document_text(self, doc_id: str) -> str:
        return self._texts[doc_id]

    def chunk_at(self, doc_id: str, offset: int) -> Chunk | None:
        return next((c for c in self.chunks if c.doc_id == doc_id and c.start <= offset < c.end), None)

    def find(self, text: str) -> tuple[str, int] | None:
        return next(((d.doc_id, d.text.find(text)) for d in self.documents if text and text in d.text), None)
