"""The shaping steps: where a raw span's edges move before spans are ranked (the reader's
decoder calls them through :meth:`qa.answering.pipeline.AnswerPipeline.shaper`). Each takes and
returns ``(a, b)``, the span's edges in its passage ``text``."""

from __future__ import annotations

import re

from qa.answering.question_types import NUMERAL, TIME_WORD, WHEN_QUESTION, asks_when

EDGE_PUNCTUATION = frozenset("，。、；：！？,.;:!?")  # never the first or last character of an answer
PAIRS = {"“": "”", "‘": "’", "《": "》", "（": "）", "(": ")", "「": "」", "【": "】"}  # kept only when both ends are in the answer
CLOSERS = {close: open_ for open_, close in PAIRS.items()}
CLAUSE_BREAK = re.compile(r"[，,；;：:]")
DATE_REST = {"年": re.compile(r"\d{1,2}月(?:\d{1,2}日)?"), "月": re.compile(r"\d{1,2}日")}
# tails the gold convention leaves out, measured on CMRC 2018 dev predictions (eval/edges.py, in the history at 2c0ea6b):
# a verb after a date (2002年开始 -> 2002年: 10 exact matches more of 3,219, none fewer) and the
# noun after a list's 等 (…薄弱等问题 -> …薄弱等: the gold keeps 等; dropping a bare 等 lost more than it won)
DROPPED_TAIL = re.compile(r"(?:(?<=[年月日])(?:开始|起|以来|满产|投产|建成|完成|至今)|(?<=..等)(?:领域|方面|方向|行业|产业|地区|国家|项目|内容|问题|部门|单位|企业|城市))$")


def trim_span(text: str, a: int, b: int) -> tuple[int, int]:
    """Narrow ``text[a:b]`` past edge spaces and punctuation, and past a quote or bracket
    whose partner is not inside the span (“需求侧 -> 需求侧, 《规划》 stays)."""
    while a < b:
        first, last = text[a], text[b - 1]
        if first.isspace() or first in EDGE_PUNCTUATION or (first in PAIRS and PAIRS[first] not in text[a + 1 : b]):
            a += 1
        elif last.isspace() or last in EDGE_PUNCTUATION or (last in CLOSERS and CLOSERS[last] not in text[a : b - 1]):
            b -= 1
        else:
            break
    return a, b


def time_clause(question: str, text: str, a: int, b: int) -> tuple[int, int]:
    """A when-question's span cut at its first clause break when the time lies before it
    (1月14日，重庆科技发展战略研究院 -> 1月14日); a question the type table does not read as a
    when-question (为什么…日期？) keeps its span."""
    if not asks_when(question):
        return a, b
    cut = CLAUSE_BREAK.search(text, a, b)
    return (a, cut.start()) if cut and (NUMERAL.search(text, a, cut.start()) or TIME_WORD.search(text, a, cut.start())) else (a, b)


def trim_edges(question: str, text: str, a: int, b: int) -> tuple[int, int]:
    """Edge spaces, punctuation and unpaired quotes trimmed (“需求侧 -> 需求侧): :func:`trim_span`."""
    return trim_span(text, a, b)


def drop_tail(question: str, text: str, a: int, b: int) -> tuple[int, int]:
    """A tail the gold convention leaves out cut, then the edges trimmed again (2002年开始 -> 2002年)."""
    tail = DROPPED_TAIL.search(text, a, b)
    return trim_span(text, a, tail.start() if tail and tail.start() > a else b)


def complete_date(question: str, text: str, a: int, b: int) -> tuple[int, int]:
    """For a when-question, a span that stops inside a date (2024年 of 2024年4月, 12月 of
    12月20日) runs to the end of that date."""
    if b < 2 or not text[b - 2].isdigit() or text[b - 1] not in DATE_REST or not WHEN_QUESTION.search(question):
        return a, b
    rest = DATE_REST[text[b - 1]].match(text, b)
    return (a, rest.end()) if rest else (a, b)
