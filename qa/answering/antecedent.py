"""An answer that the text gives by pointing back: "入选了哪份榜单？", answered in a sentence that
says "细看这份榜单，…天枢智能自动驾驶平台……", is named in the sentence before
("…发布2025年度重庆十大科技进展。"). The reader is asked what "这份榜单" is, there: one more
forward pass, timed as the ``antecedent`` stage.
"""

from __future__ import annotations

import re

from qa.text.sentences import FULL_STOP, sentence_bounds

CLASSIFIER = r"[份个项家款种条批类部座所位]"
ASKED = re.compile(rf"(?:哪|什么){CLASSIFIER}?(?P<noun>[\u4e00-\u9fff]{{2,3}}?)(?:[？?]|$)")  # 入选了哪份榜单？
BEFORE_CHARS = 200  # the sentence before is read only when it is this near


def pointing_back(question: str, sentence: str) -> str | None:
    """The phrase of ``sentence`` that points back to what ``question`` asks for (这份榜单 for
    …哪份榜单？), or ``None``."""
    asked = ASKED.search(question)
    if not asked:
        return None
    found = re.search(rf"(?:这|该|此)(?:一|{CLASSIFIER})?{re.escape(asked['noun'])}", sentence)
    return found.group() if found else None


def antecedent(read, question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the answer ``text[start:end]`` stands in a sentence that points back to what
    ``question`` asks for, the answer ``read(question, context)`` (the reader's best span, or
    ``None``) gives to "what is <that phrase>" in the sentence before (its edges in ``text``);
    ``None`` otherwise."""
    if not ASKED.search(question):  # most questions ask for no such thing: the document is not read
        return None
    left, right = sentence_bounds(text, start, end, FULL_STOP)  # 细看这份榜单，…理论；从…平台……突破。
    phrase = pointing_back(question, text[left:right])
    before = text[:left].rstrip() if phrase else ""
    if not before:
        return None
    previous = max(sentence_bounds(text, len(before) - 1, len(before) - 1, FULL_STOP)[0], left - BEFORE_CHARS)
    best = read(f"{phrase}是什么？", text[previous:left])
    return (previous + best.start, previous + best.end) if best else None
