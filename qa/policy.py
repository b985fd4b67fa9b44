"""The answer policy, one place for the assistant and for evaluation: the best-ranked span whose
form the question admits (:func:`qa.answer_form.admits`), judged by the calibration
(:class:`qa.confidence.Calibration`), and an abstention below the threshold."""

from __future__ import annotations

from dataclasses import dataclass

from qa.answer_form import admits, anchored
from qa.confidence import Calibration, Signals
from qa.spans import Span


@dataclass(frozen=True)
class Judgement:
    """The span the policy picked, what its confidence was computed from, and the confidence."""

    span: Span
    signals: Signals
    confidence: float


@dataclass(frozen=True)
class AnswerPolicy:
    """First admissible span, judged in its passage; abstain below ``abstain_below`` (default:
    the calibration's threshold; 0: never abstain on confidence)."""

    calibration: Calibration
    abstain_below: float

    @classmethod
    def load(cls, calibration: Calibration | None = None, abstain_below: float | None = None) -> "AnswerPolicy":
        calibration = calibration or Calibration.load()
        return cls(calibration, calibration.abstain_below if abstain_below is None else abstain_below)

    def judge(self, question: str, spans: list[Span], passages: list[str], hits: list | None = None) -> Judgement | None:
        """The first of the ranked ``spans`` that ``question`` admits (the first whose sentence
        names the question's numbers and codes, when one does: :func:`qa.answer_form.anchored`), judged in
        ``passages[span.context_index]`` (retrieved as ``hits[span.context_index]``, when the
        passages were retrieved); ``None`` when none is admissible."""
        admissible = [s for s in spans if admits(question, s.text)]
        if not admissible:
            return None
        best = next((s for s in admissible if anchored(question, passages[s.context_index], s.start, s.end)), admissible[0])
        hit = hits[best.context_index] if hits else None
        signals, confidence = self.calibration.judge(question, best.score, passages[best.context_index], best.context_index + 1, hit, len(best.text))
        return Judgement(best, signals, confidence)

    def answers(self, judgement: Judgement | None, abstain_below: float | None = None) -> bool:
        """Whether to answer with ``judgement`` (``abstain_below`` overrides the threshold for this call)."""
        threshold = self.abstain_below if abstain_below is None else abstain_below
        return judgement is not None and judgement.confidence >= threshold
