"""The document every format becomes: its text, title and the map back to its source."""

from __future__ import annotations

from dataclasses import dataclass, field


class CorpusError(ValueError):
    """A corpus path that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Region:
    """Where ``text[start:end]`` of a document came from: a PDF ``page`` (1-based) and ``box``
    (left, bottom, right, top in PDF points), or a block's ``kind`` (paragraph, heading, table, line)."""

    start: int
    end: int
    page: int | None = None
    kind: str = "paragraph"
    box: tuple[float, float, float, float] | None = None
    xs: tuple[float, ...] = ()  # a PDF line: where each character begins, then the last one's right edge


@dataclass(frozen=True)
class Document:
    """One source document; chunk and answer offsets index into ``text``. ``title``: its own
    (a PDF's or page's, or its first heading); ``regions``: offsets back to the source."""

    doc_id: str
    text: str
    title: str = field(default="", compare=False)
    regions: tuple[Region, ...] = field(default=(), compare=False, repr=False)
    source: str = field(default="", compare=False)  # the file it was read from, where there is one (a PDF's pages are drawn from it)

    def boxes(self, start: int, end: int) -> list[tuple[int, tuple[float, float, float, float]]]:
        """``(page, box)`` of each line ``[start, end)`` covers, narrowed to the characters it covers."""
        found = []
        for r in self.regions:
            a, b = max(start, r.start), min(end, r.end)
            if r.box is None or a >= b:
                continue
            left, bottom, right, top = r.box
            if len(r.xs) == r.end - r.start + 1:
                left, right = r.xs[a - r.start], r.xs[b - r.start]
            found.append((r.page, (left, bottom, right, top)))
        return found

    def page_at(self, offset: int) -> int | None:
        """The PDF page (1-based) holding character ``offset``, ``None`` for a format without pages."""
        return next((r.page for r in self.regions if r.start <= offset < r.end or offset == r.end), None)
