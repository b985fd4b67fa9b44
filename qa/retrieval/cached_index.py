"""Persisted index: chunks + FAISS inner-product vectors + each chunk's keyword tokens (jieba,
what BM25 is built from without segmenting the text again) + a manifest that says what built them.

Files in the index folder: ``chunks.jsonl``, ``vectors.faiss``, ``tokens.jsonl``, ``manifest.json``.
The manifest records the corpus hash, chunk settings, model id/hash, library
versions and the SHA-256 of the three data files. Loading recomputes all of it; any
difference (a changed corpus or setting, a truncated or corrupt file) rebuilds the
index. Each file is written to a temporary name and renamed; the manifest last.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from qa.encoders.cache_files import cache_key, write_atomic
from qa.ingest.chunks import CHUNK_OVERLAP, CHUNK_SIZE, Chunk, split_documents
from qa.ingest.corpus import BUNDLED_ARTICLE, Document, corpus_hash
from qa.encoders.embedder import Embedder

FORMAT_VERSION = 2  # 2: the keyword tokens are kept with the index
REPO_INDEX = Path(__file__).resolve().parents[2] / "index"  # committed, read-only; absent in a wheel install
LIBRARIES = ("faiss-cpu", "onnxruntime", "torch", "transformers", "langchain-text-splitters", "jieba")  # torch and transformers export the e5 graph; jieba segments the keywords
DATA_FILES = ("chunks.jsonl", "vectors.faiss", "tokens.jsonl")


@dataclass
class DenseIndex:
    """Chunks, their FAISS index (row i of the index is ``chunks[i]``) and their keyword tokens."""

    chunks: list[Chunk]
    faiss_index: object
    rebuilt: bool
    tokens: list[list[str]] | None = None

    def search(self, query_vector: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``depth`` (chunk indices, cosine scores) for one normalised query vector."""
        scores, ids = self.faiss_index.search(query_vector, min(depth, len(self.chunks)))
        return ids[0], scores[0]


def is_bundled_default(documents: list[Document], chunk_size: int, chunk_overlap: int) -> bool:
    """The bundled article with the default chunk settings: what the committed ``index/`` holds."""
    bundled = len(documents) == 1 and documents[0].doc_id == BUNDLED_ARTICLE.name
    return bundled and (chunk_size, chunk_overlap) == (CHUNK_SIZE, CHUNK_OVERLAP)


def cache_index_dir(cache: Path, documents: list[Document], chunk_size: int, chunk_overlap: int) -> Path:
    """``cache/indexes/KEY``, keyed by the corpus content and chunk settings."""
    return Path(cache) / "indexes" / cache_key(f"index/{FORMAT_VERSION}", corpus_hash(documents), f"{chunk_size}:{chunk_overlap}")


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def expected_manifest(documents: list[Document], chunk_size: int, chunk_overlap: int, embedder: Embedder) -> dict:
    """What the manifest of an up-to-date index must say (data-file hashes aside)."""
    return {
        "format": FORMAT_VERSION,
        "corpus_sha256": corpus_hash(documents),
        "doc_ids": [d.doc_id for d in documents],
        "chunk_size": chunk_size,
        "chunk_overlap": chunk_overlap,
        "model_id": embedder.model_id,
        "model_hash": embedder.model_hash,
        "versions": {name: metadata.version(name) for name in LIBRARIES},
    }


def _load(folder: Path, expected: dict) -> DenseIndex | None:
    import faiss

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = manifest.pop("files", {})
    if manifest != expected:
        return None
    if sorted(files) != sorted(DATA_FILES) or any(_sha256(folder / name) != digest for name, digest in files.items()):
        return None
    try:
        rows = (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        chunks = [Chunk(**json.loads(row)) for row in rows]
        index = faiss.read_index(str(folder / "vectors.faiss"))
        tokens = [json.loads(row) for row in (folder / "tokens.jsonl").read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError, TypeError, RuntimeError):
        return None
    if index.ntotal != len(chunks) or len(tokens) != len(chunks):
        return None
    return DenseIndex(chunks, index, rebuilt=False, tokens=tokens)


def build(folder: Path, documents: list[Document], chunk_size: int, chunk_overlap: int, embedder: Embedder, manifest: dict) -> DenseIndex:
    """Chunk, embed (with a progress bar), segment the keywords and write the index files atomically."""
    import faiss

    from qa.retrieval.stores.memory import faiss_index
    from qa.text.segment import tokenize

    chunks = split_documents(documents, chunk_size, chunk_overlap)
    print(f"building index of {len(chunks)} chunks in {folder}", file=sys.stderr)
    index = faiss_index(embedder.passages([c.text for c in chunks], progress=True))
    tokens = [tokenize(c.text) for c in chunks]
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "chunks.jsonl": "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks).encode("utf-8"),
        "vectors.faiss": faiss.serialize_index(index).tobytes(),
        "tokens.jsonl": "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tokens).encode("utf-8"),
    }
    for name, raw in data.items():
        write_atomic(folder / name, raw)
    files = {name: hashlib.sha256(raw).hexdigest() for name, raw in data.items()}
    write_atomic(folder / "manifest.json", json.dumps({**manifest, "files": files}, ensure_ascii=False, indent=2).encode("utf-8"))
    return DenseIndex(chunks, index, rebuilt=True, tokens=tokens)


def load_cached(documents: list[Document], chunk_size: int, chunk_overlap: int, embedder: Embedder) -> DenseIndex | None:
    """The index of these documents from the embedder's cache, if one is there and sound (no build)."""
    manifest = expected_manifest(documents, chunk_size, chunk_overlap, embedder)
    return _load(cache_index_dir(embedder.cache, documents, chunk_size, chunk_overlap), manifest)


def load_or_build(documents: list[Document], chunk_size: int, chunk_overlap: int, embedder: Embedder, folder: Path | None = None) -> DenseIndex:
    """The index for these documents and settings, rebuilt if missing, stale or corrupt.
    Without a ``folder``: the committed ``index/`` when it matches (it is only ever read),
    else ``indexes/KEY`` in the embedder's cache."""
    manifest = expected_manifest(documents, chunk_size, chunk_overlap, embedder)
    if folder is None:
        committed = _load(REPO_INDEX, manifest) if is_bundled_default(documents, chunk_size, chunk_overlap) else None
        if committed:
            return committed
        folder = cache_index_dir(embedder.cache, documents, chunk_size, chunk_overlap)
    return _load(folder, manifest) or build(folder, documents, chunk_size, chunk_overlap, embedder, manifest)
