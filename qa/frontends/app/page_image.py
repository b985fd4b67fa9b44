"""A PDF answer on its page: the page drawn offline (pypdfium2) with the answer's boxes
highlighted, as an image the full-text view shows above the text."""

from __future__ import annotations

import base64
import html
import io

from qa.ingest.document import Document

SCALE = 1.5  # pixels per PDF point
HIGHLIGHT = (255, 200, 0, 110)  # the answer's boxes, see-through amber


def page_png(document: Document, start: int, end: int) -> tuple[int, bytes] | None:
    """The page (1-based) on which ``[start, end)`` of ``document`` begins, drawn as a PNG with
    the answer's boxes highlighted; ``None`` for a document without pages or whose file is gone."""
    boxes = document.boxes(start, end)
    if not boxes or not document.source:
        return None
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    number = boxes[0][0]
    try:
        pdf = pdfium.PdfDocument(document.source)
    except (pdfium.PdfiumError, OSError):
        return None
    try:
        page = pdf[number - 1]
        height = page.get_height()
        image = page.render(scale=SCALE).to_pil().convert("RGBA")
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for on, (left, bottom, right, top) in boxes:
        if on == number:
            draw.rectangle([left * SCALE - 2, (height - top) * SCALE - 2, right * SCALE + 2, (height - bottom) * SCALE + 2], fill=HIGHLIGHT)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG")
    return number, out.getvalue()


def page_figure(document: Document, start: int, end: int) -> str:
    """The ``<figure>`` of :func:`page_png` (empty where there is no page to show)."""
    drawn = page_png(document, start, end)
    if drawn is None:
        return ""
    number, png = drawn
    label = f"{html.escape(document.doc_id.rsplit('/', 1)[-1])} 第 {number} 页"
    return f'<figure class="page-image"><img alt="{label}" src="data:image/png;base64,{base64.b64encode(png).decode()}"><figcaption>{label}</figcaption></figure>'
