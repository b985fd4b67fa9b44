"""Saved web pages (.html) with trafilatura (Apache 2.0): the article's main text, without
navigation, related headlines, comments, scripts or footers; its title and date kept."""

from __future__ import annotations

from qa.ingest.document import CorpusError, Region


def html_document(raw: bytes, doc_id: str) -> tuple[str, str, list[Region]]:
    """The main text, title (with the page's date, where it gives one) and paragraph regions of a page."""
    import trafilatura

    page = raw.decode("utf-8", errors="replace")
    extracted = trafilatura.bare_extraction(page, include_comments=False, include_tables=True, favor_precision=True, with_metadata=True)
    body = (getattr(extracted, "text", None) or "").strip() if extracted is not None else ""
    if not body:
        raise CorpusError(f"{doc_id}: no article text found in the page")
    paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
    regions, size = [], 0
    for paragraph in paragraphs:
        regions.append(Region(size, size + len(paragraph), None, "paragraph"))
        size += len(paragraph) + 2
    title = " · ".join(part for part in (getattr(extracted, "title", None), getattr(extracted, "date", None)) if part)
    return "\n\n".join(paragraphs), title, regions
