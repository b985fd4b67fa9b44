"""Follow-up questions: what an earlier turn lends to a question that leans on it.

A question leans on the conversation when it points back (它/它们/其/该/这/那/此/他/她) or is
an ellipsis ("重庆理工大学的呢？", "那X呢？"). An ellipsis takes the earlier question's predicate
with its subject replaced (:func:`carry_over`). Either way, retrieval also searches with the
earlier turn's words, and the earlier answer's passage is read first. A question without such
marks is first answered alone; only when that answer is not sure is it asked again as a
follow-up (an elided subject: "是哪天发布的？").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POINTS_BACK = re.compile(r"它们|它|其中|其|该|这(?!篇|里)|那(?!么)|此|他|她")
ELLIPSIS = re.compile(r"^(?:那|那么)?(?P<topic>.+?)(?:的)?呢[？?]?$")
# where the subject of a question ends: a copula, a preposition or a common news verb
AMOUNT = re.compile(r"(?:约|近|超过|逾|共)?[\d零〇一二三四五六七八九十百千万亿两.年月日余多]+\D{0,2}")  # a whole answer that is a number, an amount or a date: 6.25亿元, 50余家, 2025年11月
PREDICATE = re.compile(r"是|由|在|将|于|已|被|把|从|对|向|以|有|发布|设立|宣布|实现|支持|推动|聚焦|入选|牵头|联合|集中|达到|突破|提到|通过|进入|拥有|新增|投资|建设|开工|启用|举办|要求|提出")


@dataclass(frozen=True)
class Turn:
    """An earlier question and its answer (``answer`` ``""`` when the assistant abstained); where
    the answer is a span, its document and offsets."""

    question: str
    answer: str
    doc_id: str | None = None
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class FollowUp:
    """How to ask a question that leans on ``turn``: ``readings``, the questions for the reader
    (the earlier subject or answer put in, and the question as it is; the surest answer
    wins), ``search`` for retrieval (the question with the earlier turn's words), and the
    earlier answer's place, whose passage is read first."""

    readings: tuple[str, ...]
    search: str
    turn: Turn


def as_turns(history) -> list[Turn]:
    """Earlier turns, oldest first, from what :meth:`qa.assistant.Assistant.ask` returned or
    from ``(question, answer_text)`` pairs (lists too, as JSON gives them), or turns; an answer's question is the
    one it was understood as (它的投资… → 璧山的生物制造中试平台的投资…)."""
    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, (tuple, list)):
            question, answer = item
            turns.append(Turn(str(question or ""), str(answer or "")))
        else:
            turns.append(Turn(item.understood_as or item.question, item.answer, item.doc_id, item.start, item.end))
    return [t for t in turns if t.question.strip()]


def leans_back(question: str) -> bool:
    """Whether ``question`` points back or is an ellipsis (it cannot be read alone)."""
    return bool(POINTS_BACK.search(question) or ELLIPSIS.match(question))


def carry_over(topic: str, earlier: str) -> str:
    """What "``topic``呢？" means after ``earlier``: ``earlier`` with its subject replaced by
    ``topic``, where the subject is the part of ``earlier`` ending in the last characters
    ``topic`` shares with it (66个市属国企项目 for …融合项目总投资多少？), or else the part before
    its first 的 (重庆理工大学的… for 重庆中医药学院的产业创新综合体是什么方向？); failing both,
    the topic alone. (Cutting at the first predicate instead was tried: it read
    智能驾驶响应时间呢？ after 百公里加速进入了什么俱乐部？ as 智能驾驶响应时间进入了什么俱乐部？.)"""
    for size in (3, 2):
        at = earlier.find(topic[-size:])
        if len(topic) > size and at >= 0:
            return topic + earlier[at + size :]
    of = earlier.find("的")
    if 0 < of <= 20:
        return topic + earlier[of:]
    return topic + "？"


def subject(question: str) -> str:
    """The subject an earlier question asked about: its words before the first predicate
    (璧山的生物制造中试平台 of 璧山的生物制造中试平台是什么时候开工的？); ``""`` if none is found."""
    found = PREDICATE.search(question, 2)
    return question[: found.start()].removesuffix("的") if found else ""


def filled_in(question: str, turn: Turn) -> list[str]:
    """``question`` with what the earlier turn was about in place of the word that points back
    (or, where the subject is left out, before the question): its subject, then its answer
    unless that is a number, an amount or a date (其中 takes the answer alone: 其中哪个 → A和B中哪个)."""
    points = POINTS_BACK.search(question)
    if points and points.group() == "其中":
        return [question.replace("其中", f"{turn.answer}中", 1)] if turn.answer else []
    answer = "" if AMOUNT.fullmatch(turn.answer) else turn.answer  # 它 is not 6.25亿元 or 2025年11月
    topics = [topic for topic in (subject(turn.question), answer) if topic]
    if points:
        return [question[: points.start()] + topic + question[points.end() :] for topic in topics]
    return [topic + question for topic in topics]


def follow_up(question: str, turns: list[Turn]) -> FollowUp | None:
    """How to ask ``question`` after ``turns``: ``None`` without an earlier turn."""
    if not turns:
        return None
    turn = turns[-1]
    ellipsis = ELLIPSIS.match(question)
    readings = [carry_over(ellipsis["topic"], turn.question)] if ellipsis else [*filled_in(question, turn), question]
    context = " ".join(part for part in (turn.question, turn.answer) if part)
    return FollowUp(tuple(dict.fromkeys(readings)), f"{context} {readings[0]}", turn)
