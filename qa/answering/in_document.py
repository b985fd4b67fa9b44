"""The rules that read around a chosen span in its document, each taking the question and the
span's edges ``[start, end)`` in ``text`` and returning new edges (the same where it does not apply)."""

from __future__ import annotations

import re

from qa.answering.edges import CLAUSE_BREAK, trim_span
from qa.text.sentences import SENTENCE_END, sentence_bounds

LIST_ITEM = re.compile(r"([^（）()、，,。；;：:\s]+)[（(]([^（）()]+)[）)]")  # 重庆理工大学（智慧光电）
CHANGE_QUESTION = re.compile(r"(?:有|发生了?|出现了?)(?:什么|哪些|怎样的)(?:变化|转变|改变)")
CHANGE_TO = re.compile(r"转向|转变为|变为|变成|进化成|走向|到")
# "respectively": 以A和B为X和Y, A和B分别为X和Y (A is X, B is Y); each part at most 40 characters
PART = r"[^，,。；;以]{1,40}?"
PAIRED = re.compile(rf"以(?P<a>{PART})(?:和|与|及)(?P<b>{PART})为(?P<x>{PART})(?:和|与|及)(?P<y>{PART})(?=[，,。；;]|$)"
                    rf"|(?P<a2>{PART})(?:和|与|及)(?P<b2>{PART})分别(?:为|是)(?P<x2>{PART})(?:和|与|及)(?P<y2>{PART})(?=[，,。；;]|$)")
PAIR_REACH = 200  # characters either side of the answer searched for its pair


def named_item(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """Of an answer that lists items with their attributes in brackets (A（a）、B（b）), the
    attribute of the one item the question names; any other answer as it is."""
    items = list(LIST_ITEM.finditer(text, start, end))
    named = [m for m in items if m.group(1) in question]
    return named[0].span(2) if len(items) > 1 and len(named) == 1 else (start, end)


def paired(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """Of an answer inside a "respectively" pair (以A和B为X和Y), the A or B that the X or Y the
    question names goes with ("需求侧"指什么？ -> B, not the other role); any other answer as it is."""
    left, right = sentence_bounds(text, start, end)
    for pair in PAIRED.finditer(text, max(left, start - PAIR_REACH), min(right, end + PAIR_REACH)):
        if not (pair.start() <= start and end <= pair.end()):
            continue
        a, b, x, y = (pair.span(g) if pair.group(g) is not None else pair.span(g + "2") for g in "abxy")
        names = [text[slice(*role)].strip("“”\"'") for role in (x, y)]
        asked = [name in question for name in names]
        if asked.count(True) == 1:
            return trim_span(text, *(a if asked[0] else b))
    return start, end


def change_origin(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """For a question about a change (…有什么变化？), an answer that says what it became
    (传统要素驱动加快转向创新驱动…) begins at the 从 of its clause that says what it was
    (从主要依靠传统要素驱动…); any other answer as it is."""
    if not CHANGE_QUESTION.search(question) or not CHANGE_TO.search(text, start, end):
        return start, end
    origin = text.rfind("从", 0, start)
    in_clause = origin >= 0 and not CLAUSE_BREAK.search(text, origin, start) and not SENTENCE_END.search(text, origin, start)
    return (origin if in_clause else start), end
