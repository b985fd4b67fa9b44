"""Scanned pages and photos read offline: RapidOCR (``rapidocr-onnxruntime``, Apache 2.0) with
the PP-OCRv4 Chinese detection, recognition and angle models its wheel ships (no hub). Optional:
the ``[ocr]`` extra; without it a scanned file gets one error naming the extra. Boxes are kept in
PDF points (origin bottom left) for a scanned PDF, in pixels for an image."""

from __future__ import annotations

import io
from functools import cache

from qa.ingest.document import CorpusError, Region
from qa.ingest.pages import Line, assemble

DPI = 300  # a scanned PDF page is drawn at this resolution for OCR
MAX_PIXELS = 50_000_000  # an image larger than this is refused (a 300-dpi A3 page is 17.5 million)
EXTRA = "pip install 'qa-chongqing[ocr]' (or make test, which installs it)"


@cache
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def engine(doc_id: str):
    """The OCR engine, loaded once; ``CorpusError`` naming the extra where it is not installed."""
    try:
        return _engine()
    except ImportError as exc:
        raise CorpusError(f"{doc_id}: scanned pages or images need OCR: {EXTRA}") from exc


def image_lines(ocr, image, scale: float = 1.0, height: float | None = None) -> list[Line]:
    """The text lines OCR finds in a PIL ``image``, top to bottom, each with its box divided by
    ``scale`` and, given the page's ``height``, flipped to a PDF's bottom-left origin."""
    import numpy as np

    found, _ = ocr(np.asarray(image.convert("RGB")))
    lines = []
    for corners, text, _score in sorted(found or [], key=lambda f: (min(p[1] for p in f[0]), min(p[0] for p in f[0]))):
        text = text.strip()
        if not text:
            continue
        xs, ys = [p[0] / scale for p in corners], [p[1] / scale for p in corners]
        left, right = min(xs), max(xs)
        bottom, top = (height - max(ys), height - min(ys)) if height is not None else (min(ys), max(ys))
        step = (right - left) / len(text)
        lines.append(Line(text, (left, bottom, right, top), tuple(left + i * step for i in range(len(text) + 1))))
    return lines


def scanned_pages(pdf, doc_id: str) -> list[list[Line]]:
    """Each page of a pypdfium2 ``pdf`` drawn at :data:`DPI` and read by OCR."""
    ocr = engine(doc_id)
    return [image_lines(ocr, pdf[i].render(scale=DPI / 72).to_pil(), DPI / 72, pdf[i].get_height()) for i in range(len(pdf))]


def image_document(raw: bytes, doc_id: str, max_chars: int | None = None) -> tuple[str, str, list[Region]]:
    """The text, title (none) and regions of a PNG or JPEG photo or scan, one page; ``CorpusError``
    for an unreadable or oversized image, or without the extra."""
    ocr = engine(doc_id)  # first: without the extra there is nothing to read images with (Pillow comes with it)
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(raw))
        pixels = image.size[0] * image.size[1]
    except (UnidentifiedImageError, OSError) as exc:
        raise CorpusError(f"{doc_id}: not a readable image") from exc
    if pixels > MAX_PIXELS:
        raise CorpusError(f"{doc_id}: {image.size[0]}×{image.size[1]} pixels, over the limit of {MAX_PIXELS:,}")
    try:
        image.load()
    except OSError as exc:
        raise CorpusError(f"{doc_id}: a truncated or corrupt image") from exc
    text, regions = assemble([image_lines(ocr, image)], doc_id, max_chars)
    if not text:
        raise CorpusError(f"{doc_id}: no text found in the image")
    return text, "", regions
