"""What every store holds and answers: chunks with their document offsets, their e5 vectors,
and a keyword index over their jieba tokens.

A store ranks; the :class:`~qa.retrieval.retriever.Retriever` fuses. Rankings are lists of
``(Chunk, score)``, best first; only ranks are compared across stores (Milvus's BM25 scores
are negative, bm25s's positive). ``Chunk.chunk_id`` is the chunk's key in its store.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import numpy as np

from qa.ingest.chunks import Chunk
from qa.ingest.corpus import Document

FORMAT_VERSION = 1
Ranking = list[tuple[Chunk, float]]


class StoreError(RuntimeError):
    """A store that cannot be used as asked (bad URI, unreachable server, another model's
    collection, a locked file); the message names the store and what to do. Nothing is deleted."""


@dataclass(frozen=True)
class StoreMeta:
    """What built a store's vectors and chunks: a store built otherwise is refused, not mixed."""

    model_id: str
    model_hash: str
    chunk_size: int
    chunk_overlap: int
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "StoreMeta":
        return cls(**json.loads(text))

    def check(self, found: "StoreMeta", where: str) -> None:
        """``StoreError`` unless ``found`` (the store's) equals this (the process's)."""
        if found != self:
            diff = ", ".join(f"{k} {getattr(found, k)!r} (here {getattr(self, k)!r})" for k in asdict(self) if getattr(found, k) != getattr(self, k))
            raise StoreError(f"{where} was built with other settings: {diff}. Rebuild it into a new store, or use the model and settings it was built with.")


@dataclass(frozen=True)
class StoredDocument:
    """A document as a store knows it: its content hash and chunk count."""

    doc_id: str
    sha256: str
    chunks: int


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_key(sha256: str, number: int) -> int:
    """A chunk's key: 63 bits of the hash of its document's content and its place in it (stable
    across builds and processes, so a resumed build writes the same keys)."""
    return int.from_bytes(hashlib.sha256(f"{sha256}:{number}".encode()).digest()[:8], "little") >> 1


def leads(document: Document, chunks: list[Chunk]) -> list[str]:
    """The text between each chunk and the one before it (whitespace the splitter stripped;
    empty where chunks overlap): with them :func:`stitch` gives the document back."""
    ends = [0, *(c.end for c in chunks[:-1])]
    return [document.text[end:c.start] if c.start > end else "" for c, end in zip(chunks, ends)]


def stitch(rows: list[tuple[Chunk, str]]) -> str:
    """A document's text from its chunks and their leads (:func:`leads`), each character at its
    offset (trailing whitespace after the last chunk is not kept)."""
    text = ""
    for chunk, lead in sorted(rows, key=lambda row: row[0].start):
        if chunk.start >= len(text):
            text += (lead if len(text) + len(lead) == chunk.start else " " * (chunk.start - len(text))) + chunk.text
        elif chunk.end > len(text):
            text += chunk.text[len(text) - chunk.start :]
    return text


class Store(ABC):
    """Dense and keyword search over chunks, and the documents they come from."""

    uri: str

    @abstractmethod
    def __len__(self) -> int:
        """The number of chunks."""

    @abstractmethod
    def dense(self, vector: np.ndarray, depth: int) -> Ranking:
        """The ``depth`` chunks nearest a normalised ``[1, dim]`` query vector, by inner product."""

    @abstractmethod
    def keyword(self, question: str, depth: int) -> Ranking:
        """The ``depth`` best chunks by BM25 over jieba tokens (none for a question without words)."""

    @abstractmethod
    def document_text(self, doc_id: str) -> str:
        """The text of a document (``KeyError`` if the store has none by that id)."""

    @abstractmethod
    def chunk_at(self, doc_id: str, offset: int) -> Chunk | None:
        """The chunk of ``doc_id`` that holds character ``offset``."""

    @abstractmethod
    def find(self, text: str) -> tuple[str, int] | None:
        """``(doc_id, offset)`` of an occurrence of ``text`` in some chunk."""


class WritableStore(Store):
    """A store that an archive build adds documents to and removes them from (:mod:`qa.retrieval.archive_sync`).
    A document's chunks are written together, so an interrupted build leaves whole documents."""

    @abstractmethod
    def documents(self) -> dict[str, StoredDocument]:
        """Every whole document in the store, by id."""

    @abstractmethod
    def add(self, entries: list[tuple[Document, list[Chunk], np.ndarray]]) -> None:
        """Store documents, each with its chunks (``chunk_id`` set by :func:`chunk_key`) and their
        vectors. The documents are new: :meth:`remove` a changed one first."""

    @abstractmethod
    def remove(self, doc_ids: list[str]) -> None:
        """Delete these documents' chunks (and any part of a document an interrupt left)."""

    def commit(self) -> None:
        """Make what was added durable and searchable (a no-op where every write already is)."""

    def close(self) -> None:
        """Release the store's files or connection."""
