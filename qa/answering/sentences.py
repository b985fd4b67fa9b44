"""Why/how/what-is questions are answered with the sentence that holds the answer (which
questions: :func:`qa.answering.question_types.sentence_question`): the sentence's edges
(:func:`sentence_answer`), and the answer of a text that asks the question itself (:func:`echoed_answer`)."""

from __future__ import annotations

import re

from qa.text.sentences import sentence_bounds, skip_spaces

CLAUSE_END = re.compile(r"[，,：:、]")
# a sentence that goes on from the one before (这意味着…, 该平台…, 但…, 简单来说…, 源于…) is joined to it in a sentence answer
CONTINUES = re.compile(r"(?:这|该|此|它|其|但|而|简单来说|也就是说|换句话说|因此|所以|从而|源于|由于|因为)")


def sentence_answer(text: str, start: int, end: int, limit: int) -> tuple[int, int]:
    """``[left, right)`` of the sentence of ``text`` holding ``[start, end)``, joined by the next
    sentence when that one goes on from it, and by the one before when it goes on from that
    (:data:`CONTINUES`), as far as ``limit`` characters allow; a sentence longer than ``limit``
    is narrowed to whole clauses around the span. Edge whitespace is left out."""
    left, right = sentence_bounds(text, start, end)
    following = skip_spaces(text, right)
    if following < len(text) and CONTINUES.match(text, following):
        after = sentence_bounds(text, following, following + 1)[1]
        if after - left <= limit:
            right = after
    opening = text[:left].rstrip(" \t\u3000")
    if opening and opening[-1] != "\n" and CONTINUES.match(text, skip_spaces(text, left)):
        before = sentence_bounds(text, len(opening) - 1, len(opening) - 1)[0]
        if right - before <= limit:
            left = before
    if right - left > limit:  # the span's clauses, grown by whole clauses on both sides while they fit
        bounds = sorted({left, right, *(m.end() for m in CLAUSE_END.finditer(text, left, right))})
        i = max(j for j, b in enumerate(bounds[:-1]) if b <= start)
        k = min(j for j, b in enumerate(bounds) if b >= end)
        grew = True
        while grew:
            grew = False
            if k + 1 < len(bounds) and bounds[k + 1] - bounds[i] <= limit:
                k, grew = k + 1, True
            if i > 0 and bounds[k] - bounds[i - 1] <= limit:
                i, grew = i - 1, True
        left, right = bounds[i], bounds[k]
    while left < right and text[right - 1].isspace():
        right -= 1
    while left < start and text[left].isspace():
        left += 1
    return left, right


def echoed_answer(passage: str, question: str) -> int | None:
    """Where ``passage`` asks ``question`` itself and answers it (SDA平台是什么？它不像…), the
    offset at which its answer begins (the sentence after that question); ``None`` otherwise."""
    asked = question.strip().rstrip("？?")
    at = passage.find(asked) if len(asked) >= 4 else -1
    after = at + len(asked)
    if at < 0 or after >= len(passage) or passage[after] not in "？?":
        return None
    start = skip_spaces(passage, after + 1)
    return start if start < len(passage) else None
