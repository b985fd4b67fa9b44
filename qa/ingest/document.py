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


@dataclass(frozen=True)
class Document:
    """One source document; chunk and answer offsets index into ``text``. ``title``: its own
    (a PDF's or page's, or its first heading); ``regions``: offsets back to the source."""

    doc_id: str
    text: str
    title: str = field(default="", compare=False)
    regions: tuple[Region, ...] = field(default=(), compare=False, repr=False)

    def page_at(self, offset: int) -> int | None:
        """The PDF page (1-based) holding character ``offset``, ``None`` for a format without pages."""
        return next((r.page for r in self.regions if r.start <= offset < r.end or offset == r.end), None)
