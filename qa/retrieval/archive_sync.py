"""Build and keep an archive in a store: ``qa index --corpus FOLDER --store URI``.

Incremental and resumable: documents are keyed by content hash, so only new or changed
documents are embedded, removed ones are deleted, and a build that was interrupted starts
again after the last document it wrote (each document is written whole). Files are read,
chunked and embedded a batch at a time, so memory does not grow with the corpus.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from qa.ingest.chunks import CHUNK_OVERLAP, CHUNK_SIZE, Chunk, split_documents
from qa.ingest.corpus import CorpusError, Document, corpus_files, read_document
from qa.retrieval.stores.base import StoreMeta, WritableStore, chunk_key, text_sha256

BATCH_CHUNKS = 256  # chunks embedded between writes


@dataclass
class SyncReport:
    """What a build did: documents added (new or changed), removed, kept; chunks embedded; seconds."""

    added: int = 0
    removed: int = 0
    kept: int = 0
    chunks: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # unreadable files: "path: why"

    def lines(self) -> list[str]:
        rate = f", {self.chunks / self.seconds:.1f} chunks/s" if self.chunks and self.seconds else ""
        done = f"{self.added} document(s) added, {self.removed} removed, {self.kept} unchanged; {self.chunks} chunks embedded in {self.seconds:.1f} s{rate}"
        return [done, *(f"skipped {why}" for why in self.skipped)]


def store_meta(embedder, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> StoreMeta:
    return StoreMeta(embedder.model_id, embedder.model_hash, chunk_size, chunk_overlap)


def keyed_chunks(document: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """The document's chunks, each keyed by :func:`chunk_key` (its content hash and place)."""
    sha = text_sha256(document.text)
    return [replace(c, chunk_id=chunk_key(sha, n)) for n, c in enumerate(split_documents([document], chunk_size, chunk_overlap))]


def archive_ids(paths: list[str | Path]) -> dict[str, Path]:
    """Document id -> file: a folder's files by their path inside it (so the archive survives the
    folder moving), a file named directly by its path as given."""
    ids: dict[str, Path] = {}
    for given in map(Path, paths):
        for f in corpus_files([given]):
            ids.setdefault(f.relative_to(given).as_posix() if given.is_dir() else str(given), f)
    return ids


def _batches(documents: Iterator[Document], chunk_size: int, chunk_overlap: int) -> Iterator[list[tuple[Document, list[Chunk]]]]:
    batch, size = [], 0
    for doc in documents:
        chunks = keyed_chunks(doc, chunk_size, chunk_overlap)
        batch.append((doc, chunks))
        size += len(chunks)
        if size >= BATCH_CHUNKS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def sync(store: WritableStore, ids: dict[str, Path], embedder, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP, progress: bool = True) -> SyncReport:
    """Make ``store`` hold exactly the documents ``ids`` (document id -> file, as
    :func:`archive_ids` gives them). A document whose hash the store already has is kept as it is."""
    from tqdm import tqdm

    started = time.perf_counter()
    stored = store.documents()
    gone = [doc_id for doc_id in stored if doc_id not in ids]
    store.remove(gone)
    report = SyncReport(removed=len(gone))
    pending: list[Path] = []
    changed: list[str] = []  # or left in part by an interrupt
    total = 0
    for doc_id, path in ids.items():
        try:
            document = read_document(path, doc_id)
        except CorpusError as exc:  # one bad file does not stop an archive; a stored copy stays
            report.skipped.append(str(exc))
            continue
        known = stored.get(doc_id)
        if known is None or known.sha256 != text_sha256(document.text):
            if known is not None:
                changed.append(doc_id)
            pending.append(path)
            total += len(split_documents([document], chunk_size, chunk_overlap))
        else:
            report.kept += 1
    store.remove(changed)
    by_path = {path: doc_id for doc_id, path in ids.items()}
    documents = (read_document(path, by_path[path]) for path in pending)
    with tqdm(total=total, unit="chunk", desc="indexing", disable=not progress, smoothing=0.1) as bar:
        for batch in _batches(documents, chunk_size, chunk_overlap):
            texts = [c.text for _, chunks in batch for c in chunks]
            vectors = embedder.passages(texts) if texts else np.zeros((0, 384), np.float32)
            ends = np.cumsum([len(chunks) for _, chunks in batch])
            store.add([(document, chunks, vectors[end - len(chunks) : end]) for (document, chunks), end in zip(batch, ends)])
            report.added += len(batch)
            report.chunks += len(texts)
            bar.update(len(texts))
    store.commit()
    report.seconds = time.perf_counter() - started
    return report
