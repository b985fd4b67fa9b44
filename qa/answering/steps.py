"""The answer steps, in the one order they run: every rule that shapes, selects or replaces an
answer, by stage.

- ``shape``: a raw span's edges, at decoding, before spans are ranked;
- ``select``: which ranked span the policy judges (:class:`qa.answering.policy.AnswerPolicy`);
- ``place``: the judged span in its document, for a span or a sentence answer
  (:class:`qa.answering.pipeline.AnswerPipeline`).

An answer's ``rules`` name the steps that changed it, in this order; before them ``follow_up``
where the question was read with an earlier turn's words (:mod:`qa.conversation.policy`). ``measured``: how often a
step changed the answer (``python -m eval.rules``, docs/answer-steps.md): CMRC 2018 dev (3,219
questions, open mode over its paragraphs) and the article set (157), as of 0.2.0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from qa.answering import edges, in_document, selection
from qa.answering.antecedent import antecedent
from qa.answering.sentences import echoed_answer, sentence_answer
from qa.types import Hit, Span


@dataclass(frozen=True)
class Draft:
    """An answer being placed: ``text[start:end]`` of ``hit``'s document ``text``; ``kind``
    ``span`` or ``sentence``; ``phrase``: a sentence answer's own span (document offsets)."""

    query: str
    hits: list[Hit]
    hit: Hit
    text: str
    start: int
    end: int
    kind: str
    phrase: tuple[int, int] | None = None


@dataclass(frozen=True)
class Tools:
    """What a place step may use besides the draft: a document's text by id, the reader's
    best span for a question over one context (one forward pass), and the longest sentence answer."""

    document_text: Callable[[str], str]
    read: Callable[[str, str], Span | None]
    sentence_chars: int


@dataclass(frozen=True)
class Step:
    """A named rule of one ``stage``; a ``place`` step applies to answers of ``kinds``."""

    name: str
    stage: str
    run: Callable
    measured: str
    kinds: tuple[str, ...] = ("span", "sentence")

    @property
    def doc(self) -> str:
        """What the step does, with its example: the first paragraph of its rule's docstring."""
        return " ".join((self.run.__doc__ or "").strip().split("\n\n")[0].split())


def _edges(rule: Callable[[str, str, int, int], tuple[int, int]]) -> Callable[[Draft, Tools], Draft]:
    """A place step from a rule on ``(question, text, start, end)``."""

    def step(draft: Draft, tools: Tools) -> Draft:
        start, end = rule(draft.query, draft.text, draft.start, draft.end)
        return replace(draft, start=start, end=end)

    step.__doc__ = rule.__doc__
    return step


def echoed_question(draft: Draft, tools: Tools) -> Draft:
    """Where a passage asks the question itself (SDA平台是什么？它不像…), the answer starts at
    the sentence after it, and keeps no phrase of its own."""
    echo = next(((h, h.start + at) for h in draft.hits if (at := echoed_answer(h.text, draft.query)) is not None), None)
    if echo is None:
        return draft
    hit, start = echo
    text = draft.text if hit.doc_id == draft.hit.doc_id else tools.document_text(hit.doc_id)
    return replace(draft, hit=hit, text=text, start=start, end=start, phrase=None)


def whole_sentence(draft: Draft, tools: Tools) -> Draft:
    """A why/how/what-is answer is the sentence holding the span, joined by a sentence that
    goes on from it, narrowed to whole clauses past the length limit (为什么…？ -> 因为…。)."""
    start, end = sentence_answer(draft.text, draft.start, max(draft.end, draft.start + 1), tools.sentence_chars)
    return replace(draft, start=start, end=end)


def named_antecedent(draft: Draft, tools: Tools) -> Draft:
    """An answer in a sentence that points back (细看这份榜单，…) is what the sentence before
    names (…入选了哪份榜单？ -> 2025年度重庆十大科技进展): one more forward pass."""
    found = antecedent(tools.read, draft.query, draft.text, draft.start, draft.end)
    return draft if found is None else replace(draft, start=found[0], end=found[1])


STEPS = (
    Step("time_clause", "shape", edges.time_clause, "CMRC dev 10 of 3,219; article 0 of 157"),
    Step("trim_edges", "shape", edges.trim_edges, "CMRC dev 483 of 3,219; article 26 of 157"),
    Step("drop_tail", "shape", edges.drop_tail, "CMRC dev 14 of 3,219; article 5 of 157"),
    Step("complete_date", "shape", edges.complete_date, "CMRC dev 1 of 3,219; article 2 of 157"),
    Step("admissible", "select", selection.admissible, "CMRC dev 4 of 3,219; article 1 of 157"),
    Step("anchored", "select", selection.anchored_first, "CMRC dev 3 of 3,219; article 1 of 157"),
    Step("echoed_question", "place", echoed_question, "CMRC dev 0 of 3,219; article 0 of 157", ("sentence",)),
    Step("whole_sentence", "place", whole_sentence, "CMRC dev 285 of 3,219; article 4 of 157", ("sentence",)),
    Step("named_item", "place", _edges(in_document.named_item), "CMRC dev 1 of 3,219; article 0 of 157", ("span",)),
    Step("paired", "place", _edges(in_document.paired), "CMRC dev 0 of 3,219; article 2 of 157", ("span",)),
    Step("change_origin", "place", _edges(in_document.change_origin), "CMRC dev 0 of 3,219; article 0 of 157", ("span",)),
    Step("antecedent", "place", named_antecedent, "CMRC dev 2 of 3,219; article 0 of 157", ("span",)),
)


STAGES = {name: tuple(s for s in STEPS if s.stage == name) for name in ("shape", "select", "place")}


def stage(name: str) -> tuple[Step, ...]:
    """The steps of one stage, in order."""
    return STAGES[name]
