"""Hybrid retrieval: dense e5 + BM25 over jieba tokens, fused by reciprocal-rank fusion."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.chunks import CHUNK_OVERLAP, CHUNK_SIZE, Chunk
from qa.corpus import Document, load_corpus
from qa.embedder import Embedder
from qa.index import DenseIndex, load_or_build
from qa.words import tokenize

MODES = ("dense", "bm25", "hybrid")
RRF_K = 60
FUSION_DEPTH = 50  # ranks taken from each method before fusing


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. ``score`` is the score of the mode used (RRF for hybrid);
    ``dense_rank`` / ``bm25_rank`` are 1-based ranks in each method (``None`` if not ranked)."""

    text: str
    doc_id: str
    chunk_id: int
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None


def bm25_index(texts: list[str]):
    """A ``bm25s.BM25`` over the jieba tokens of ``texts`` (score with ``get_scores(tokenize(q))``)."""
    import bm25s

    model = bm25s.BM25()
    model.index([tokenize(t) or ["∅"] for t in texts], show_progress=False)
    return model


class Retriever:
    """Search a corpus (default: the bundled article) for the chunks that answer a question.

    >>> hits = Retriever().search("长安汽车新能源汽车年销量突破了多少？", k=5)
    """

    def __init__(
        self,
        corpus: list[str | Path] | None = None,
        chunk_size: int = CHUNK_SIZE,
        chunk_overlap: int = CHUNK_OVERLAP,
        index_dir: Path | None = None,
        embedder: Embedder | None = None,
        documents: list[Document] | None = None,
    ):
        self.documents = documents or load_corpus(corpus)
        self.embedder = embedder or Embedder()
        self.index: DenseIndex = load_or_build(self.documents, chunk_size, chunk_overlap, self.embedder, index_dir)

    @property
    def chunks(self) -> list[Chunk]:
        return self.index.chunks

    @cached_property
    def bm25(self):
        return bm25_index([c.text for c in self.chunks])

    def document_text(self, doc_id: str) -> str:
        return next(d.text for d in self.documents if d.doc_id == doc_id)

    def hit_at(self, doc_id: str, offset: int) -> Hit | None:
        """The chunk of ``doc_id`` that holds character ``offset``, as a hit without scores."""
        c = next((c for c in self.chunks if c.doc_id == doc_id and c.start <= offset < c.end), None)
        return Hit(c.text, c.doc_id, c.chunk_id, c.start, c.end, 0.0) if c else None

    def find(self, text: str) -> tuple[str, int] | None:
        """``(doc_id, offset)`` of the first occurrence of ``text`` in the corpus."""
        return next(((d.doc_id, d.text.find(text)) for d in self.documents if text and text in d.text), None)

    def dense_ranking(self, question: str, depth: int = FUSION_DEPTH) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(self.embedder.query(question), depth)

    def bm25_ranking(self, question: str, depth: int = FUSION_DEPTH) -> tuple[np.ndarray, np.ndarray]:
        tokens = tokenize(question)
        scores = self.bm25.get_scores(tokens) if tokens else np.zeros(len(self.chunks), dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:depth]
        return order, scores[order]

    def rankings(self, question: str, mode: str = "hybrid") -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(chunk indices, scores) per method that ``mode`` uses, best first."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not question or not question.strip():
            raise ValueError("the question is empty")
        methods = {"dense": self.dense_ranking, "bm25": self.bm25_ranking}
        return {name: rank(question) for name, rank in methods.items() if mode in (name, "hybrid")}

    def fuse(self, rankings: dict[str, tuple[np.ndarray, np.ndarray]], k: int) -> list[Hit]:
        """Top ``k`` hits: reciprocal-rank fusion of several rankings, or the single ranking's own scores."""
        ranks = {name: {int(i): r for r, i in enumerate(ids, 1)} for name, (ids, _) in rankings.items()}
        if len(rankings) > 1:
            fused: dict[int, float] = {}
            for per_method in ranks.values():
                for i, r in per_method.items():
                    fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r)
            scored = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        else:
            ((ids, scores),) = rankings.values()
            scored = [(int(i), float(s)) for i, s in zip(ids, scores)]
        hits = []
        for i, score in scored[:k]:
            c = self.chunks[i]
            hits.append(Hit(c.text, c.doc_id, c.chunk_id, c.start, c.end, float(score), ranks.get("dense", {}).get(i), ranks.get("bm25", {}).get(i)))
        return hits

    def search(self, question: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Top ``k`` chunks for ``question`` by ``mode`` (dense, bm25 or hybrid)."""
        return self.fuse(self.rankings(question, mode), k)
