"""The answer policy, one place for the assistant and for evaluation: the spans the selection
steps prefer (:mod:`qa.answering.selection`), the first judged by the calibration
(:class:`qa.answering.calibration.Calibration`), and an abstention below the threshold."""

from __future__ import annotations

from dataclasses import dataclass

from qa.answering.calibration import Calibration
from qa.answering.steps import stage
from qa.types import Hit, Judgement, Span


@dataclass(frozen=True)
class AnswerPolicy:
    """The first span the selection steps leave, judged in its passage; abstain below
    ``abstain_below`` (default: the calibration's threshold; 0: never abstain on confidence)."""

    calibration: Calibration
    abstain_below: float

    @classmethod
    def load(cls, calibration: Calibration | None = None, abstain_below: float | None = None) -> "AnswerPolicy":
        calibration = calibration or Calibration.load()
        return cls(calibration, calibration.abstain_below if abstain_below is None else abstain_below)

    def judge(self, question: str, spans: list[Span], passages: list[str], hits: list[Hit] | None = None) -> Judgement | None:
        """The first of the ranked ``spans`` left by the selection steps, judged in
        ``passages[span.context_index]`` (retrieved as ``hits[span.context_index]``, when the
        passages were retrieved); ``None`` when none is admissible. The judgement names the
        steps that put another span first."""
        rules = []
        for step in stage("select"):
            chosen = step.run(question, spans, passages)
            if chosen and spans and chosen[0] is not spans[0]:
                rules.append(step.name)
            spans = chosen
        if not spans:
            return None
        best = spans[0]
        hit = hits[best.context_index] if hits else None
        signals, confidence = self.calibration.judge(question, best.score, passages[best.context_index], best.context_index + 1, hit, len(best.text))
        return Judgement(best, signals, confidence, tuple(rules))

    def answers(self, judgement: Judgement | None, abstain_below: float | None = None) -> bool:
        """Whether to answer with ``judgement`` (``abstain_below`` overrides the threshold for this call)."""
        threshold = self.abstain_below if abstain_below is None else abstain_below
        return judgement is not None and judgement.confidence >= threshold
