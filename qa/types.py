"""The types that cross the pipeline's stages, in one place: a retrieved chunk (:class:`Hit`),
a reader's candidate (:class:`Span`, :class:`Reading`), what its confidence is computed from
(:class:`Signals`), the answer policy's pick (:class:`Judgement`) and the reply (:class:`Answer`).
Plain frozen dataclasses; nothing here imports the rest of the package."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. ``score`` is the score of the mode used (RRF for hybrid);
    ``dense_rank`` / ``bm25_rank`` are 1-based ranks in each method (``None`` if not ranked)."""

    text: str
    doc_id: str
    chunk_id: int
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``contexts[context_index][start:end] == text``. ``score`` is its
    margin over no-answer in its chunk's window; ``sentence_score`` the same in its sentence
    read alone (only when re-read). ``raw_start``/``raw_end``: the edges as the tokens gave
    them, before the shaping steps moved them (``None``: the same as ``start``/``end``)."""

    text: str
    context_index: int
    start: int
    end: int
    score: float
    sentence_score: float | None = None
    raw_start: int | None = None
    raw_end: int | None = None

    @property
    def rank_score(self) -> float:
        """What spans are ranked by: the chunk margin, or the mean of both views when re-read."""
        return self.score if self.sentence_score is None else (self.score + self.sentence_score) / 2

    @property
    def raw(self) -> tuple[int, int]:
        """The span's edges before shaping."""
        return (self.start if self.raw_start is None else self.raw_start, self.end if self.raw_end is None else self.raw_end)


@dataclass(frozen=True)
class Reading:
    """Ranked spans for one question (scores relative to their window's no-answer score)."""

    spans: list[Span]

    @property
    def best(self) -> Span | None:
        return self.spans[0] if self.spans else None


def _inverse(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


@dataclass(frozen=True)
class Signals:
    """What the confidence is computed from. Ranks are 1-based, ``None`` where the passage was
    not in that ranking; a question read against its own paragraph has rank 1 in each."""

    margin: float
    support: float
    passage_rank: int = 1
    dense_rank: int | None = 1
    bm25_rank: int | None = 1
    length: int = 0

    def features(self) -> dict[str, float]:
        """The calibration's inputs: the margin and support as they are, ranks as reciprocals, log(1 + length)."""
        ranks = {name: _inverse(getattr(self, name)) for name in ("passage_rank", "dense_rank", "bm25_rank")}
        return {"margin": self.margin, "support": self.support, **ranks, "length": math.log1p(self.length)}


@dataclass(frozen=True)
class Judgement:
    """The span the policy picked, what its confidence was computed from, the confidence, and
    the selection steps that picked it over the reader's first span (``rules``)."""

    span: Span
    signals: Signals
    confidence: float
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The assistant's reply, graded (``grade``): ``sure``, ``unsure`` (shown, marked as
    uncertain) or ``none``. For ``none`` ``answer`` is ``""`` and ``message`` says so;
    otherwise ``document_text(doc_id)[start:end] == answer`` and the answer lies in ``evidence``
    at ``evidence_start`` (a document offset). ``kind``: ``span`` (a phrase) or ``sentence`` (why,
    how, what-is questions: the sentence, or two, holding the answer). ``understood_as``: the
    question as it was read, after an earlier turn lent it its subject or predicate.
    ``keywords_only``: the text's dense index was still being built, so retrieval used keywords
    alone. An abstention says why (``abstained_because``, a key of
    :data:`qa.answering.abstention.REASONS`) and keeps the best admissible answer it withheld as
    ``guess`` (``None`` when the reader found none). A sentence answer keeps the reader's own
    span inside it, ``phrase_start`` to ``phrase_end`` (document offsets; ``None`` for a span
    answer, and where the text asked the question itself). ``rules``: the names of the answer
    steps that changed this answer, in order (:mod:`qa.answering.steps`). ``page``: the PDF page
    (1-based) the answer starts on, ``None`` for a format without pages. ``timings``: seconds per
    stage of this answer."""

    question: str
    answer: str
    confidence: float
    doc_id: str | None
    start: int | None
    end: int | None
    evidence: str
    evidence_start: int | None
    passages: list[Hit] = field(default_factory=list)
    message: str = ""
    signals: Signals | None = None
    timings: dict[str, float] = field(default_factory=dict)
    kind: str = "span"
    understood_as: str = ""
    keywords_only: bool = False
    abstained_because: str = ""
    guess: Answer | None = None
    phrase_start: int | None = None
    phrase_end: int | None = None
    rules: tuple[str, ...] = ()
    page: int | None = None
    grade: str = "sure"

    @property
    def phrase(self) -> str:
        """The reader's span inside a sentence answer (``""`` when there is none)."""
        if self.phrase_start is None or self.start is None or not self.start <= self.phrase_start < self.phrase_end <= self.end:
            return ""
        return self.answer[self.phrase_start - self.start : self.phrase_end - self.start]

    @property
    def abstained(self) -> bool:
        """Graded ``none``: no answer shown."""
        return not self.answer

    @property
    def unsure(self) -> bool:
        """Shown, but marked as uncertain."""
        return self.grade == "unsure" and bool(self.answer)

    def to_json(self) -> dict:
        """The ``qa ask --json`` object (keys in a fixed order, newer ones last)."""
        keys = ("question", "answer", "confidence", "doc_id", "start", "end", "evidence")
        guess = {k: getattr(self.guess, k) for k in ("answer", "confidence", "doc_id", "start", "end", "evidence", "page")} if self.guess else None
        return {
            **{k: getattr(self, k) for k in keys},
            "passages": [asdict(h) for h in self.passages],
            "kind": self.kind,
            "understood_as": self.understood_as or self.question,
            "keywords_only": self.keywords_only,
            "abstained_because": self.abstained_because or None,
            "guess": guess,
            "phrase": {"text": self.phrase, "start": self.phrase_start, "end": self.phrase_end} if self.phrase else None,
            "rules": list(self.rules),
            "page": self.page,
            "grade": self.grade,
        }
