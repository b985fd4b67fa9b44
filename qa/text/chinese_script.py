"""Traditional and Simplified Chinese: questions are read in the script of the text they ask about.

OpenCC (``opencc-python-reimplemented``, Apache 2.0) converts character by character and
phrase by phrase, so a Traditional question about a Simplified text, or a Simplified one about
a Traditional text, is converted before retrieval and reading; the answer is always a span of
the source text, offsets unchanged.
"""

from __future__ import annotations

from functools import cache


@cache
def _converter(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


def is_simplified(text: str, sample: int = 5000) -> bool:
    """True when at most 1 % of the characters of (the start of) ``text`` change under t2s."""
    head = text[:sample]
    changed = sum(a != b for a, b in zip(head, to_simplified(head)))
    return changed <= 0.01 * max(1, len(head))


def script_of(texts: list[str]) -> str | None:
    """``simplified`` when every text is (and for no text at all: an archive too large to list),
    ``traditional`` when none is, ``None`` for a mix."""
    simplified = [is_simplified(text) for text in texts]
    return "simplified" if all(simplified) else "traditional" if not any(simplified) else None


def in_script_of(question: str, script: str | None) -> str:
    """``question`` converted to ``script`` (``simplified`` or ``traditional``; ``None``: as it is)."""
    return to_simplified(question) if script == "simplified" else to_traditional(question) if script == "traditional" else question
