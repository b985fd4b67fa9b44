"""Confidence of an answer and the abstention threshold, from fitted parameters shipped as data.

confidence = sigmoid(sum of weight x feature + bias) over the features of an answer's
:class:`Signals`: the reader's margin (best span over its window's no-answer score), the support
(share of the question's content words in the answer's passage), how retrieval ranked that
passage (its place among the passages read, and in the dense and BM25 rankings) and the
answer's length. ``python -m eval.calibrate`` fits the weights and writes
``qa/weights/calibration.json`` (with what they were fitted on, and when); a feature the file
gives no weight counts 0.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from qa.text.segment import tokenize
from qa.types import Signals

CALIBRATION_FILE = Path(__file__).parents[1] / "weights" / "calibration.json"
FEATURES = ("margin", "support", "passage_rank", "dense_rank", "bm25_rank", "length")


def _found_share(question: str, passage: str, weight) -> float:
    """Weighted share of the question's content words (jieba, no question words) found in ``passage``."""
    words = set(tokenize(question))
    total = sum(map(weight, words))
    return sum(weight(w) for w in words if w in passage.lower()) / total if total else 0.0


def support(question: str, passage: str) -> float:
    """Share of the question's content words that occur in ``passage``."""
    return _found_share(question, passage, lambda w: 1)


def coverage(question: str, passage: str) -> float:
    """Share of the characters of the question's content words that ``passage`` holds: a long
    name missing weighs more than a common word found."""
    return _found_share(question, passage, len)


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over :meth:`Signals.features`, and the grades' bounds: an answer is
    ``sure`` from ``sure_from``, ``unsure`` from ``abstain_below``, withheld below it, and
    withheld whatever its confidence when the reader's margin is below ``no_answer_margin``."""

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    abstain_below: float = 0.5
    sure_from: float = 0.5
    no_answer_margin: float = -math.inf

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        unknown = set(data["weights"]) - set(FEATURES)
        if unknown:
            raise ValueError(f"{path}: unknown features {sorted(unknown)} (known: {', '.join(FEATURES)})")
        grades = data["grades"]
        return cls(data["weights"], data["bias"], grades["unsure_from"], grades["sure_from"], grades["no_answer_margin"])

    def judge(self, question: str, margin: float, passage: str, passage_rank: int = 1, hit=None, length: int = 0) -> tuple[Signals, float]:
        """The signals of an answer of ``length`` characters with this ``margin``, read in
        ``passage`` (the ``passage_rank``-th read; ``hit``: its retrieval ranks, none for a
        question's own paragraph), and its confidence."""
        ranks = (hit.dense_rank, hit.bm25_rank) if hit is not None else (1, 1)
        signals = Signals(margin, support(question, passage), passage_rank, *ranks, length)
        return signals, self.confidence(signals)

    def confidence(self, signals: Signals) -> float:
        features = signals.features()
        z = sum(w * features[name] for name, w in self.weights.items()) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
