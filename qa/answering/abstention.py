"""Why an answer is withheld: no passage shares the question's content, the reader found no
answer (or rated "no answer" above its best span), or its best answer was unsure."""

from __future__ import annotations

from qa.answering.calibration import coverage
from qa.types import Hit, Judgement

MESSAGE = "文章中没有找到这个问题的答案"
REASONS = {
    "no_passage": "没有与这个问题相关的段落",
    "not_answered": "找到的段落没有回答这个问题",
    "unsure": "找到了一个可能的答案，但不够确定",
}


def reason(query: str, judgement: Judgement | None, hits: list[Hit], no_passage_below: float) -> str:
    """The key of :data:`REASONS` for withholding ``judgement``: ``no_passage`` when no hit
    holds ``no_passage_below`` of the question's content (by characters)."""
    if max((coverage(query, h.text) for h in hits), default=0.0) < no_passage_below:
        return "no_passage"
    if judgement is None or judgement.signals.margin < 0:
        return "not_answered"
    return "unsure"


def message(why: str) -> str:
    return f"{MESSAGE}：{REASONS[why]}"
