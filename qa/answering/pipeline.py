"""The answer pipeline: the steps of :mod:`qa.answering.steps` run in order, in one place, for
``ask``, ``ask_batch`` and evaluation alike. It gives the reader its shaping steps, and turns a
judgement into an :class:`~qa.types.Answer` in document coordinates (the place steps, the
evidence sentence) or an abstention with its reason and withheld guess."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable

from qa.answering import abstention
from qa.answering.policy import AnswerPolicy
from qa.answering.question_types import sentence_question
from qa.answering.steps import Draft, Tools, stage
from qa.reading.decoding import Shape
from qa.text.sentences import sentence_bounds
from qa.types import Answer, Hit, Judgement, Span

@contextmanager
def timed(timings: dict[str, float], stage: str):
    """Adds the seconds of the block to ``timings[stage]`` (repeated stages add up)."""
    started = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


def shape(question: str, text: str, a: int, b: int, record: list[str] | None = None) -> tuple[int, int]:
    """``[a, b)`` of ``text`` after the shaping steps, in order (none once the span is empty);
    the names of those that moved it appended to ``record``."""
    for step in stage("shape"):
        if a >= b:
            break
        moved = step.run(question, text, a, b)
        if record is not None and moved != (a, b):
            record.append(step.name)
        a, b = moved
    return a, b


def evidence_sentence(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence(s) of ``text`` around ``[start, end)``, and where they start."""
    left, right = sentence_bounds(text, start, end)
    return text[left:right].rstrip(), left


class AnswerPipeline:
    """The shaping, selection and place steps around a ``reader`` (whose ``run`` the
    antecedent step calls), with the ``policy``'s judgement and grades; a withheld reply names
    ``where`` it looked (:func:`qa.answering.abstention.place`)."""

    def __init__(self, policy: AnswerPolicy, reader, sentence_chars: int, no_passage_below: float, where: str = "文章"):
        self.policy = policy
        self.where = where
        self.reader = reader
        self.sentence_chars = sentence_chars
        self.no_passage_below = no_passage_below

    def shaper(self, question: str) -> Shape:
        """The shaping steps for ``question``, as the reader's decoder calls them."""
        return lambda text, a, b: shape(question, text, a, b)

    def judge(self, query: str, spans: list[Span], hits: list[Hit]) -> Judgement | None:
        return self.policy.judge(query, spans, [h.text for h in hits], hits)

    def answer(self, question: str, query: str, judgement: Judgement | None, hits: list[Hit], document_text: Callable[[str], str], abstain_below: float | None, timings: dict[str, float]) -> Answer:
        """The answer to ``question`` (read as ``query``) from ``judgement`` over ``hits``,
        graded by the policy (``abstain_below`` overrides its lower threshold): ``sure`` or
        ``unsure`` with the answer, or ``none`` with its reason and the withheld guess. The
        antecedent's forward pass is added to ``timings``."""
        understood = query if query != question else ""
        why = abstention.reason(query, judgement, hits, self.no_passage_below, self.policy, abstain_below)
        if why:
            guess = self._shown(question, query, judgement, hits, document_text, "none", timings) if judgement else None
            confidence, signals = (judgement.confidence, judgement.signals) if judgement else (0.0, None)
            return Answer(question, "", confidence, None, None, None, "", None, hits, abstention.message(why, self.where), signals, understood_as=understood, abstained_because=why, guess=guess, grade="none")
        return self._shown(question, query, judgement, hits, document_text, self.policy.grade(judgement, abstain_below), timings)

    def _shown(self, question: str, query: str, judgement: Judgement, hits: list[Hit], document_text: Callable[[str], str], grade: str, timings: dict[str, float]) -> Answer:
        """``judgement``'s span as an answer in document coordinates, after the place steps, with its evidence."""
        understood = query if query != question else ""
        span, hit = judgement.span, hits[judgement.span.context_index]
        shaped, placed = [], []
        shape(query, hit.text, *span.raw, shaped)
        start, end = hit.start + span.start, hit.start + span.end
        kind = "sentence" if sentence_question(query) else "span"
        draft = Draft(query, hits, hit, document_text(hit.doc_id), start, end, kind, (start, end) if kind == "sentence" else None)
        draft = self.place(draft, Tools(document_text, self._read(timings), self.sentence_chars), placed)
        if kind == "sentence":
            evidence, evidence_start = draft.text[draft.start : draft.end], draft.start
        else:
            evidence, evidence_start = evidence_sentence(draft.text, draft.start, draft.end)
        phrase = draft.phrase or (None, None)
        return Answer(
            question, draft.text[draft.start : draft.end], judgement.confidence, draft.hit.doc_id, draft.start, draft.end, evidence, evidence_start, hits, "",
            judgement.signals, kind=kind, understood_as=understood, phrase_start=phrase[0], phrase_end=phrase[1], rules=(*shaped, *judgement.rules, *placed), grade=grade,
        )

    def place(self, draft: Draft, tools: Tools, record: list[str]) -> Draft:
        """``draft`` after the place steps of its kind, in order; the names of those that
        changed it appended to ``record``."""
        for step in stage("place"):
            if draft.kind not in step.kinds:
                continue
            placed = step.run(draft, tools)
            if (placed.hit, placed.start, placed.end) != (draft.hit, draft.start, draft.end):
                record.append(step.name)
            draft = placed
        return draft

    def _read(self, timings: dict[str, float]) -> Callable[[str, str], Span | None]:
        """The reader's best shaped span for a question over one context, timed as ``antecedent``."""

        def read(question: str, context: str) -> Span | None:
            with timed(timings, "antecedent"):
                return self.reader.run(question, [context], reread=False, shape=self.shaper(question)).best

        return read
