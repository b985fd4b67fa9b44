"""The official CMRC 2018 metric (cmrc2018_evaluate.py), reimplemented.

Both strings are lower-cased and stripped. EM removes the punctuation below and
compares. F1 also removes it, makes each CJK character (U+4E00–U+9FA5) a token and
every other run a word token, and scores the longest common contiguous run of
tokens. Both take the best over the gold answers; scores are in [0, 1].
"""

from __future__ import annotations

import re

PUNCTUATION = frozenset("-:_*^/\\~`+=，。：？！“”；’《》·、「」（）－～『』")  # the official list ("……" is two chars there and never matches)
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_WORD = re.compile(r"\d+(?:[.,]\d+)+|\w+|[^\w\s]")


def _clean(text: str) -> str:
    return "".join(ch for ch in text.lower().strip() if ch not in PUNCTUATION)


def segment(text: str) -> list[str]:
    """CJK characters one by one, other runs as word tokens, punctuation removed."""
    tokens: list[str] = []
    run = ""
    for ch in _clean(text):
        if _CJK.match(ch):
            tokens.extend(_WORD.findall(run))
            run = ""
            tokens.append(ch)
        else:
            run += ch
    tokens.extend(_WORD.findall(run))
    return tokens


def _longest_common_run(a: list[str], b: list[str]) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def f1_score(prediction: str, golds: list[str]) -> float:
    """Best F1 over the gold answers; with no gold answer, 1 for an abstention (empty prediction)."""
    if not golds:
        return float(not prediction.strip())
    predicted = segment(prediction)
    scores = [0.0]
    for gold in golds:
        expected = segment(gold)
        common = _longest_common_run(expected, predicted)
        if common:
            precision, recall = common / len(predicted), common / len(expected)
            scores.append(2 * precision * recall / (precision + recall))
    return max(scores)


def exact_match(prediction: str, golds: list[str]) -> float:
    """1 if the prediction equals a gold answer once punctuation is removed; abstention as in ``f1_score``."""
    if not golds:
        return float(not prediction.strip())
    return float(any(_clean(prediction) == _clean(gold) for gold in golds))


def holds(prediction: str, phrases: list[str]) -> bool:
    """Whether ``prediction`` contains one of ``phrases``, both compared as EM compares them."""
    found = _clean(prediction)
    return any((phrase := _clean(p)) and phrase in found for p in phrases)
