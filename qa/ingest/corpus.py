"""Corpus: the documents questions are answered from. One ingest step, one document type: UTF-8
text and Markdown, PDF text layers (:mod:`qa.ingest.pdf`), Word files (:mod:`qa.ingest.word`) and
saved web pages (:mod:`qa.ingest.web_page`) all become a :class:`Document`: its plain text (what
the whole pipeline reads), its title, and regions that map text offsets back to where they came
from (a PDF's page and box, a block's kind). The format is read from the bytes, not trusted from
the name: a file whose extension lies gets one clear error."""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa.ingest.document import CorpusError, Document

BUNDLED_ARTICLE = Path(__file__).parents[1] / "data" / "article.txt"
FORMATS = {".txt": "text", ".md": "text", ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".png": "image", ".jpg": "image", ".jpeg": "image"}
SUFFIXES = tuple(FORMATS)
MAX_FILE_BYTES = 64 * 1024 * 1024  # an uploaded PDF, Word file, web page or image (its text is held to the settings' max_document_chars)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not found:
            raise CorpusError(f"{path}: folder holds no {', '.join(SUFFIXES)} files")
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


def sniffed(raw: bytes) -> str:
    """The format the bytes say they are: ``pdf``, ``zip`` (a .docx), ``html``, ``image`` or ``text``."""
    head = raw[:512].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "pdf"
    if raw.startswith(b"PK\x03\x04"):
        return "zip"
    if raw.startswith((b"\x89PNG", b"\xff\xd8\xff")):
        return "image"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "html"
    return "text"


def parse_document(raw: bytes, name: str, doc_id: str | None = None, max_chars: int | None = None, source: str = "") -> Document:
    """A document from a file's bytes, in the format its name gives (``.txt``, ``.md``, ``.pdf``,
    ``.docx``, ``.html``, and ``.png``/``.jpg`` read by OCR; ``source``: the file's path, kept to draw a PDF's pages); ``CorpusError``
    names the file and says what is wrong: an unknown or lying extension, a scanned image, an
    encrypted, corrupt or oversized file."""
    doc_id = doc_id or name
    suffix = Path(name).suffix.lower()
    found = sniffed(raw)
    kind = FORMATS.get(suffix)
    if kind is None:
        raise CorpusError(f"{doc_id}: unknown format {suffix or '(no extension)'}; readable: {', '.join(SUFFIXES)}")
    expected = {"text": ("text", "html"), "pdf": ("pdf",), "docx": ("zip",), "html": ("html", "text"), "image": ("image",)}[kind]
    if found not in expected:
        raise CorpusError(f"{doc_id}: named {suffix} but its bytes are {'an image' if found == 'image' else 'a ' + found.upper() + ' file'}")
    if kind == "text":
        return document_from_bytes(raw, doc_id, max_chars)
    if kind == "pdf":
        from qa.ingest.pdf import pdf_document

        text, title, regions = pdf_document(raw, doc_id, max_chars)
    elif kind == "image":
        from qa.ingest.ocr import image_document

        text, title, regions = image_document(raw, doc_id, max_chars)
    elif kind == "docx":
        from qa.ingest.word import docx_document

        text, title, regions = docx_document(raw, doc_id)
    else:
        from qa.ingest.web_page import html_document

        text, title, regions = html_document(raw, doc_id)
    document = document_from_text(text, doc_id, max_chars)
    return Document(document.doc_id, document.text, title, tuple(regions), source)


def read_document(path: Path, doc_id: str | None = None) -> Document:
    """Read one file (:func:`parse_document`); a missing, unreadable, binary or empty file raises ``CorpusError``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_document(raw, path.name, doc_id or str(path), source=str(path))


def corpus_files(paths: list[str | Path]) -> list[Path]:
    """The readable files (:data:`SUFFIXES`) of ``paths`` (files, or folders searched recursively), once each, in order."""
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
