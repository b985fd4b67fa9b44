"""Corpus: the documents questions are answered from (UTF-8 ``.txt`` / ``.md`` files)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

BUNDLED_ARTICLE = Path(__file__).parent / "data" / "article.txt"
SUFFIXES = (".txt", ".md")


class CorpusError(ValueError):
    """A corpus path that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Document:
    """One source document; chunk and answer offsets index into ``text``."""

    doc_id: str
    text: str


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not found:
            raise CorpusError(f"{path}: folder holds no .txt or .md files")
        return found
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    return [path]


def read_document(path: Path, doc_id: str | None = None) -> Document:
    """Read one UTF-8 text file; a missing, unreadable, binary or empty file raises ``CorpusError``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    if "\x00" in text:
        raise CorpusError(f"{path}: not a text file (contains NUL bytes)")
    if not text.strip():
        raise CorpusError(f"{path}: file is empty")
    return Document(doc_id or str(path), text)


def load_corpus(paths: list[str | Path] | None = None) -> list[Document]:
    """Documents from files or folders; ``None`` means the bundled article."""
    if not paths:
        return [read_document(BUNDLED_ARTICLE, doc_id=BUNDLED_ARTICLE.name)]
    files = [f for p in paths for f in _files(Path(p))]
    return [read_document(f) for f in dict.fromkeys(files)]


def corpus_hash(documents: list[Document]) -> str:
    """SHA-256 over document ids and texts: any edit changes it."""
    digest = hashlib.sha256()
    for doc in documents:
        for part in (doc.doc_id, doc.text):
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()
