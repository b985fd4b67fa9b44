"""Confidence of an answer and the abstention threshold, from fitted parameters shipped as data.

confidence = sigmoid(w_margin * margin + w_support * support + bias), where *margin* is the
reader's best-span score over "no answer" in its window and *support* the share of the
question's content words found in the answer's passage. ``python -m eval.calibrate`` fits the
parameters and writes ``qa/weights/calibration.json`` (with what they were fitted on, and when).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from qa.words import tokenize

CALIBRATION_FILE = Path(__file__).parent / "weights" / "calibration.json"


@dataclass(frozen=True)
class Signals:
    """What the confidence is computed from."""

    margin: float
    support: float


def support(question: str, passage: str) -> float:
    """Share of the question's content words (jieba, no question words) that occur in ``passage``."""
    words = set(tokenize(question))
    return sum(1 for w in words if w in passage.lower()) / len(words) if words else 0.0


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over :class:`Signals` and the threshold below which to abstain."""

    w_margin: float
    w_support: float
    bias: float
    abstain_below: float

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["w_margin"], data["w_support"], data["bias"], data["abstain_below"])

    def judge(self, question: str, margin: float, passage: str) -> tuple[Signals, float]:
        """The signals of an answer with this ``margin`` read in ``passage``, and its confidence."""
        signals = Signals(margin, support(question, passage))
        return signals, self.confidence(signals)

    def confidence(self, signals: Signals) -> float:
        z = self.w_margin * signals.margin + self.w_support * signals.support + self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
