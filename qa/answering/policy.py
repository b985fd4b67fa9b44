"""The answer policy, one place for the assistant and for evaluation: the spans the selection
steps prefer (:mod:`qa.answering.selection`), the first judged by the calibration
(:class:`qa.answering.calibration.Calibration`), and its grade: ``sure``, ``unsure`` or ``none``
by two thresholds on the confidence, and ``none`` whatever the confidence where the reader
rates "no answer" clearly above the span."""

from __future__ import annotations

from dataclasses import dataclass

from qa.answering.calibration import Calibration
from qa.answering.steps import stage
from qa.types import Hit, Judgement, Span

GRADES = ("sure", "unsure", "none")


@dataclass(frozen=True)
class AnswerPolicy:
    """The first span the selection steps leave, judged in its passage, and graded: ``sure``
    from ``sure_from``, ``unsure`` from ``abstain_below``, ``none`` below (defaults: the
    calibration's; ``abstain_below`` 0: never withhold on confidence)."""

    calibration: Calibration
    abstain_below: float
    sure_from: float

    @classmethod
    def load(cls, calibration: Calibration | None = None, abstain_below: float | None = None) -> "AnswerPolicy":
        calibration = calibration or Calibration.load()
        return cls(calibration, calibration.abstain_below if abstain_below is None else abstain_below, calibration.sure_from)

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

    def clearly_unanswered(self, judgement: Judgement | None) -> bool:
        """No span, or the reader rates "no answer" clearly above it (its margin below the calibration's ``no_answer_margin``)."""
        return judgement is None or judgement.signals.margin < self.calibration.no_answer_margin

    def grade(self, judgement: Judgement | None, abstain_below: float | None = None) -> str:
        """``judgement``'s grade, one of :data:`GRADES` (``abstain_below`` overrides the lower
        threshold for this call; ``sure`` needs at least as much)."""
        if self.clearly_unanswered(judgement):
            return "none"
        low = self.abstain_below if abstain_below is None else abstain_below
        if judgement.confidence >= max(self.sure_from, low):
            return "sure"
        return "unsure" if judgement.confidence >= low else "none"
