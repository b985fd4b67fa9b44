"""Why an answer is withheld (graded ``none``): no passage shares the question's content, the
reader found no answer (or rated "no answer" above its best span), or its best answer's
confidence is below the lower threshold. What an ``unsure`` answer is marked with."""

from __future__ import annotations

from qa.answering.calibration import coverage
from qa.types import Hit, Judgement

MESSAGE = "没有找到这个问题的答案"  # after where the reply looked: 文章中, 文本中, 资料库中
REASONS = {
    "no_passage": "没有与这个问题相关的段落",
    "not_answered": "找到的段落没有回答这个问题",
    "unsure": "找到了一个可能的答案，但把握太低",
}
BUNDLED_NAME = "article.txt"  # qa.ingest.corpus.BUNDLED_ARTICLE
UNSURE_LABEL = "可能是"  # an unsure answer is shown as 可能是 X
UNSURE_NOTE = "不确定，请对照原文核实"


def reason(query: str, judgement: Judgement | None, hits: list[Hit], no_passage_below: float, policy, abstain_below: float | None = None) -> str:
    """``""`` when ``policy`` shows ``judgement`` (graded ``sure`` or ``unsure``); else the key
    of :data:`REASONS` for withholding it: ``no_passage`` when no hit holds ``no_passage_below``
    of the question's content (by characters)."""
    if policy.grade(judgement, abstain_below) != "none":
        return ""
    if passage_coverage(query, hits) < no_passage_below:
        return "no_passage"
    if judgement is None or judgement.signals.margin < 0:
        return "not_answered"
    return "unsure"


def passage_coverage(query: str, hits: list[Hit]) -> float:
    """The largest share of ``query``'s content words (by characters) one of ``hits`` holds."""
    return max((coverage(query, h.text) for h in hits), default=0.0)


def message(why: str, where: str = "文章") -> str:
    """The reply withheld for ``why``, in ``where`` (:func:`place`)."""
    return f"{where}中{MESSAGE}：{REASONS[why]}"


def place(names: list[str], archive: bool) -> str:
    """How replies name what they are read in, given its documents' file ``names``: 文章 (the
    bundled article), 文本 (another text) or 资料库 (several texts, or an ``archive`` store)."""
    if archive or len(names) > 1:
        return "资料库"
    return "文章" if names == [BUNDLED_NAME] else "文本"
