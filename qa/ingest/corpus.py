"""Corpus: the documents questions are answered from (UTF-8 ``.txt`` / ``.md`` files)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

BUNDLED_ARTICLE = Path(__file__).parents[1] / "data" / "article.txt"
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


def document_from_bytes(raw: bytes, doc_id: str, max_chars: int | None = None) -> Document:
    """A document from UTF-8 bytes; not UTF-8, binary, empty or over ``max_chars`` raises ``CorpusError``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{doc_id}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    return document_from_text(text, doc_id, max_chars)


def document_from_text(text: str, doc_id: str, max_chars: int | None = None) -> Document:
    """A document from text; binary (NUL characters), empty or over ``max_chars`` raises ``CorpusError``."""
    if "\x00" in text:
        raise CorpusError(f"{doc_id}: not a text file (contains NUL bytes)")
    if not text.strip():
        raise CorpusError(f"{doc_id}: file is empty")
    if max_chars is not None and len(text) > max_chars:
        raise CorpusError(f"{doc_id}: {len(text):,} characters, over the limit of {max_chars:,}")
    return Document(doc_id, text)


def read_document(path: Path, doc_id: str | None = None) -> Document:
    """Read one UTF-8 text file; a missing, unreadable, binary or empty file raises ``CorpusError``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from exc
    return document_from_bytes(raw, doc_id or str(path))


def corpus_files(paths: list[str | Path]) -> list[Path]:
    """The ``.txt``/``.md`` files of ``paths`` (files, or folders searched recursively), once each, in order."""
    return list(dict.fromkeys(f for p in paths for f in _files(Path(p))))


def load_corpus(paths: list[str | Path] | None = None) -> list[Document]:
    """Documents from files or folders; ``None`` means the bundled article."""
    if not paths:
        return [read_document(BUNDLED_ARTICLE, doc_id=BUNDLED_ARTICLE.name)]
    return [read_document(f) for f in corpus_files(paths)]


def corpus_hash(documents: list[Document]) -> str:
    """SHA-256 over document ids and texts: any edit changes it."""
    digest = hashlib.sha256()
    for doc in documents:
        for part in (doc.doc_id, doc.text):
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()
