"""PDF text layers with pypdfium2 (Apache 2.0 / BSD): the lines of each page in reading order
with their boxes (:mod:`qa.ingest.pages` makes them one text); a PDF without a text layer is
read by OCR (:mod:`qa.ingest.ocr`)."""

from __future__ import annotations

import re

from qa.ingest.document import CorpusError, Region
from qa.ingest.pages import Line, assemble


def page_lines(textpage) -> list[Line]:
    """The lines of a pdfium text page, with their boxes."""
    text = textpage.get_text_range()
    lines, at = [], 0
    for piece in re.split(r"\r\n|\n|\r", text):
        lead = len(piece) - len(piece.lstrip())
        stripped = piece.strip()
        first = at + lead
        at += len(piece) + (2 if text.startswith("\r\n", at + len(piece)) else 1)
        if not stripped:
            continue
        boxes = [textpage.get_charbox(i) for i in range(first, first + len(stripped))]
        inked = [b for b, ch in zip(boxes, stripped) if not ch.isspace()]
        box = (min(b[0] for b in inked), min(b[1] for b in inked), max(b[2] for b in inked), max(b[3] for b in inked))
        lines.append(Line(stripped, box, tuple(b[0] for b in boxes) + (boxes[-1][2],)))
    return lines


def pdf_document(raw: bytes, doc_id: str, max_chars: int | None = None) -> tuple[str, str, list[Region]]:
    """The text, title and regions of a PDF, its pages read by OCR where it has no text layer
    (scanned pages: :mod:`qa.ingest.ocr`, the ``[ocr]`` extra); ``CorpusError`` for an encrypted,
    corrupt or truncated file, and for a scanned one without the extra."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        reason = "encrypted (password protected)" if "password" in str(exc).lower() else f"not a readable PDF ({exc})"
        raise CorpusError(f"{doc_id}: {reason}") from exc
    try:
        pages = [page_lines(pdf[i].get_textpage()) for i in range(len(pdf))]
        if not any(pages):
            from qa.ingest.ocr import scanned_pages

            pages = scanned_pages(pdf, doc_id)
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
    finally:
        pdf.close()
    body, regions = assemble(pages, doc_id, max_chars)
    if not body:
        raise CorpusError(f"{doc_id}: the PDF holds no text, not even on its scanned pages")
    return body, title, regions
