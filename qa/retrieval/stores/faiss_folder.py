"""A FAISS archive kept in a folder: ``store.sqlite`` holds every chunk with its offsets, lead,
jieba tokens and vector, and the documents' hashes; searches run on a :class:`MemoryStore`
loaded from it. Each document is one SQLite transaction, so an interrupted build keeps whole
documents and resumes where it stopped. A second process writing the same folder waits for the
first (SQLite's lock), never interleaves.
"""

from __future__ import annotations

import sqlite3
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.ingest.chunks import Chunk
from qa.ingest.corpus import Document
from qa.retrieval.stores.base import (
    StoredDocument,
    StoreError,
    StoreMeta,
    WritableStore,
    leads,
    stitch,
    text_sha256,
)
from qa.retrieval.stores.memory import MemoryStore, faiss_index
from qa.text.segment import tokenize

DB_FILE = "store.sqlite"
SEPARATOR = "\x1f"  # between stored tokens
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (doc_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    lead TEXT NOT NULL, text TEXT NOT NULL, tokens TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id, start);
"""


class FolderStore(WritableStore):
    """The FAISS archive in ``folder`` (created if missing), for vectors of ``meta``'s model."""

    def __init__(self, folder: str | Path, meta: StoreMeta):
        self.folder = Path(folder)
        self.uri = str(self.folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"{self.folder}: not a folder (a FAISS store is a folder; a Milvus Lite store is a file ending in .db)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.folder / DB_FILE, timeout=60)
            self.db.executescript(SCHEMA)
            found = self.db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.folder / DB_FILE}: not a readable store ({exc}); nothing was changed") from exc
        if found is None:
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('meta', ?)", (meta.to_json(),))
        else:
            meta.check(StoreMeta.from_json(found[0]), str(self.folder))

    # -- writing -------------------------------------------------------------------------
    def documents(self) -> dict[str, StoredDocument]:
        rows = self.db.execute("SELECT doc_id, sha256, chunks FROM documents").fetchall()
        return {doc_id: StoredDocument(doc_id, sha, n) for doc_id, sha, n in rows}

    def add(self, entries: list[tuple[Document, list[Chunk], np.ndarray]]) -> None:
        with self.db:  # one transaction: whole documents or none
            for document, chunks, vectors in entries:
                rows = [
                    (c.chunk_id, c.doc_id, c.start, c.end, lead, c.text, SEPARATOR.join(tokenize(c.text)), np.asarray(v, dtype=np.float32).tobytes())
                    for c, lead, v in zip(chunks, leads(document, chunks), vectors)
                ]
                self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (document.doc_id,))
                self.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self.db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", (document.doc_id, text_sha256(document.text), len(chunks)))
        self.__dict__.pop("memory", None)

    def remove(self, doc_ids: list[str]) -> None:
        with self.db:
            for doc_id in doc_ids:
                self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        self.__dict__.pop("memory", None)

    def close(self) -> None:
        self.db.close()

    # -- searching -----------------------------------------------------------------------
    @cached_property
    def memory(self) -> MemoryStore:
        """Every chunk, its vector and tokens, loaded once (again after a write)."""
        rows = self.db.execute("SELECT id, doc_id, start, end, text, tokens, vector FROM chunks ORDER BY doc_id, start").fetchall()
        chunks = [Chunk(key, doc_id, start, end, text) for key, doc_id, start, end, text, _, _ in rows]
        tokens = [t.split(SEPARATOR) if t else [] for *_, t, _ in rows]
        vectors = np.frombuffer(b"".join(r[-1] for r in rows), dtype=np.float32).reshape(len(rows), -1) if rows else np.zeros((0, 384), np.float32)
        return MemoryStore([], chunks, faiss_index(vectors), tokens)

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def dense(self, vector, depth):
        return self.memory.dense(vector, depth)

    def keyword(self, question, depth):
        return self.memory.keyword(question, depth)

    def _rows(self, where: str, *args, limit: int = -1) -> list[tuple[Chunk, str]]:
        rows = self.db.execute(f"SELECT id, doc_id, start, end, text, lead FROM chunks WHERE {where} ORDER BY start LIMIT {int(limit)}", args).fetchall()
        return [(Chunk(*row[:5]), row[5]) for row in rows]

    def document_text(self, doc_id: str) -> str:
        rows = self._rows("doc_id = ?", doc_id)
        if not rows:
            raise KeyError(doc_id)
        return stitch(rows)

    def chunk_at(self, doc_id: str, offset: int) -> Chunk | None:
        rows = self._rows("doc_id = ? AND start <= ? AND end > ?", doc_id, offset, offset)
        return rows[0][0] if rows else None

    def find(self, text: str) -> tuple[str, int] | None:
        rows = self._rows("instr(text, ?) > 0", text, limit=1) if text else []
        return (rows[0][0].doc_id, rows[0][0].start + rows[0][0].text.find(text)) if rows else None
