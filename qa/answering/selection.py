"""The selection steps: which of the reader's ranked spans the policy judges. Each takes the
question, the ranked spans and the passages they were read in, and returns the spans in the
order it prefers (the first is judged; none left: no admissible answer)."""

from __future__ import annotations

import re

from qa.answering.question_types import admits
from qa.text.sentences import sentence_bounds
from qa.types import Span

IDENTIFIER = re.compile(r"[0-9A-Za-z]*[0-9][0-9A-Za-z]*")  # a number or a code with digits: 888, G20, 5G


def admissible(question: str, spans: list[Span], passages: list[str]) -> list[Span]:
    """The spans whose form the question admits (:func:`qa.answering.question_types.admits`:
    多少 needs a numeral, 谁 no bare date…): 多少人 answered by 重庆大学 is passed over."""
    return [s for s in spans if admits(question, s.text)]


def anchored(question: str, text: str, start: int, end: int) -> bool:
    """Whether the sentence of ``text`` holding ``[start, end)`` names every number and code of
    the question (each whole: 888 is not in 1888); true for a question that names none. Among
    near-identical sentences (站长是王888号。站长是王889号。) the question's numbers tell which."""
    names = set(IDENTIFIER.findall(question))
    if not names:
        return True
    left, right = sentence_bounds(text, start, end)
    return all(re.search(rf"(?<![0-9A-Za-z]){re.escape(n)}(?![0-9A-Za-z])", text[left:right]) for n in names)


def anchored_first(question: str, spans: list[Span], passages: list[str]) -> list[Span]:
    """The first span whose sentence names the question's numbers and codes put first
    (:func:`anchored`): 第888号水电站的站长是谁？ takes 王888号's sentence over 王889号's."""
    best = next((s for s in spans if anchored(question, passages[s.context_index], s.start, s.end)), None)
    return spans if best is None else [best, *(s for s in spans if s is not best)]
