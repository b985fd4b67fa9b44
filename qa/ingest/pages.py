"""Pages as lines of text with boxes, from a PDF's text layer or from OCR, into one text:
repeated page headers and footers dropped, lines broken mid-sentence joined, every line mapped
back to its page and box."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from qa.ingest.document import CorpusError, Region

SENTENCE_ENDS = tuple("。！？；：…!?;:")  # a line ending so ends its sentence (a closing quote may not)
FULL_LINE = 0.8  # a line at least this share of the page's longest is full: the next goes on from it
EDGE_LINES = 2  # lines at the top and the bottom of a page looked at for headers and footers


@dataclass(frozen=True)
class Line:
    """One line of a page: its text, the box around its characters, and where each character
    begins, left to right, with the last one's right edge at the end (``len(text) + 1`` values)."""

    text: str
    box: tuple[float, float, float, float]  # left, bottom, right, top
    xs: tuple[float, ...] = ()


def _shape(line: str) -> str:
    """A line as headers and footers repeat it: numbers as #, without spaces or punctuation
    (OCR reads "12/3/26, 7:02 PM" as "12/3/26,7:02PM" on another page)."""
    return re.sub(r"\d+", "#", re.sub(r"[\s\W_]+", "", line))


def _edges(lines: list[Line]) -> set[tuple[int, str]]:
    """The shapes of a page's first and last :data:`EDGE_LINES` lines, with their place (0, 1, …; -1, -2, …)."""
    top = [(i, _shape(l.text)) for i, l in enumerate(lines[:EDGE_LINES])]
    bottom = [(-1 - i, _shape(l.text)) for i, l in enumerate(reversed(lines[-EDGE_LINES:]))]
    return set(top + bottom)


def repeated_edges(pages: list[list[Line]]) -> set[tuple[int, str]]:
    """The places and shapes (digits as #) of lines that stand at the same place among the
    first or last lines of at least half the pages: page headers and footers (重庆日报
    2025年1月3日, 第 3 页, 1/5)."""
    if len(pages) < 2:
        return set()
    seen = Counter(edge for lines in pages for edge in _edges(lines))
    return {edge for edge, n in seen.items() if n >= max(2, len(pages) / 2)}


def _is_edge(lines: list[Line], i: int, edges: set[tuple[int, str]]) -> bool:
    shape = _shape(lines[i].text)
    return (i < EDGE_LINES and (i, shape) in edges) or (i >= len(lines) - EDGE_LINES and (i - len(lines), shape) in edges)


def assemble(pages: list[list[Line]], doc_id: str, max_chars: int | None = None) -> tuple[str, list[Region]]:
    """One text from the lines of every page, page headers and footers dropped, a full line
    joined to the next (it goes on there, on this page or the next), each line's region kept."""
    edges = repeated_edges(pages)
    text, regions, size = [], [], 0
    for number, lines in enumerate(pages, 1):
        kept = [l for i, l in enumerate(lines) if not _is_edge(lines, i, edges)]
        longest = max((len(l.text) for l in kept), default=0)
        for line in kept:
            regions.append(Region(size, size + len(line.text), number, "line", line.box, line.xs))
            full = len(line.text) >= FULL_LINE * longest and not line.text.endswith(SENTENCE_ENDS)
            text += [line.text, "" if full else "\n"]
            size += len(line.text) + (0 if full else 1)
        if max_chars is not None and size > max_chars:
            raise CorpusError(f"{doc_id}: over {max_chars:,} characters of text")
    return "".join(text).rstrip(), regions
