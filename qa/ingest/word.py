"""Word files (.docx) with python-docx (MIT): headings, paragraphs and tables in reading order,
each mapped back to its block. The zip is checked before it is opened: a file that would unpack
past :data:`MAX_UNPACKED` bytes (a zip bomb) is refused."""

from __future__ import annotations

import io
import zipfile

from qa.ingest.document import CorpusError, Region

MAX_UNPACKED = 64 * 1024 * 1024  # bytes a .docx may unpack to
MAX_RATIO = 200  # and at most this many times its packed size


def check_zip(raw: bytes, doc_id: str) -> None:
    """``CorpusError`` for a zip that is corrupt or would unpack past the bounds."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, EOFError) as exc:
        raise CorpusError(f"{doc_id}: not a readable .docx (corrupt or truncated zip)") from exc
    if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(1, len(raw)):
        raise CorpusError(f"{doc_id}: unpacks to {unpacked:,} bytes, over the limit of {MAX_UNPACKED:,} (a zip bomb?)")


def docx_document(raw: bytes, doc_id: str) -> tuple[str, str, list[Region]]:
    """The text, title and regions of a .docx: one paragraph a line, a table row a line with its
    cells joined by tabs, a blank line between blocks."""
    from docx import Document as Docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip(raw, doc_id)
    try:
        docx = Docx(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises several kinds for a damaged package
        raise CorpusError(f"{doc_id}: not a readable .docx ({type(exc).__name__})") from exc
    parts, regions, size = [], [], 0
    for block in docx.iter_inner_content():
        if isinstance(block, Paragraph):
            style = (block.style.name if block.style is not None else "") or ""
            lines = [(block.text.strip(), "heading" if style.lower().startswith(("heading", "title")) else "paragraph")]
        elif isinstance(block, Table):
            lines = [("\t".join(cell.text.strip() for cell in row.cells), "table") for row in block.rows]
        else:
            continue
        for line, kind in lines:
            if line.strip():
                regions.append(Region(size, size + len(line), None, kind))
                parts.append(line + "\n\n")
                size += len(line) + 2
    title = (docx.core_properties.title or "").strip() or next((text for text, r in zip(parts, regions) if r.kind == "heading"), "").strip()
    return "".join(parts).rstrip(), title, regions
