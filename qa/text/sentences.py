"""Sentences of Chinese text: where the sentence around a span begins and ends."""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"[。！？；!?;\n]")
FULL_STOP = re.compile(r"[。！？!?\n]")  # a sentence's end, not a semicolon's
SENTENCE_WINDOW = 256  # characters first searched back for a sentence's start (ends are single characters)


def sentence_bounds(text: str, start: int, end: int, ends: re.Pattern = SENTENCE_END) -> tuple[int, int]:
    """``[left, right)`` of the sentence(s) of ``text`` holding ``[start, end)``, leading spaces
    skipped; ``ends``: what ends a sentence, one character (default: a full stop, a semicolon or
    a line break)."""
    left, reach, window = 0, start, SENTENCE_WINDOW
    while reach > 0:  # the last end before ``start``, looked for backwards in windows that double
        low = max(0, reach - window)
        found = [m.end() for m in ends.finditer(text, low, reach)]
        if found:
            left = found[-1]
            break
        reach, window = low, 2 * window
    right = next((m.end() for m in ends.finditer(text, end)), len(text))
    while left < start and text[left].isspace():
        left += 1
    return left, right


def skip_spaces(text: str, at: int) -> int:
    """The first position from ``at`` that is not a space (line breaks stop it: a paragraph is never crossed)."""
    while at < len(text) and text[at] in " \t\u3000":
        at += 1
    return at
