"""The assistant's reply, :class:`Answer`, and the check every question passes first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from qa.confidence import Signals
from qa.fusion import Hit
from qa.settings import defaults

ABSTAIN_MESSAGE = "文章中没有找到这个问题的答案"
# why an answer was withheld: no passage shares a word with the question; the reader found no
# answer in the passages it read (or rated "no answer" above its best span); its best was unsure
ABSTAIN_REASONS = {
    "no_passage": "没有与这个问题相关的段落",
    "not_answered": "找到的段落没有回答这个问题",
    "unsure": "找到了一个可能的答案，但不够确定",
}


@dataclass(frozen=True)
class Answer:
    """The assistant's reply. When it abstains ``answer`` is ``""`` and ``message`` says so;
    otherwise ``document_text(doc_id)[start:end] == answer`` and the answer lies in ``evidence``
    at ``evidence_start`` (a document offset). ``kind``: ``span`` (a phrase) or ``sentence`` (why,
    how, what-is questions: the sentence, or two, holding the answer). ``understood_as``: the
    question as it was read, after an earlier turn lent it its subject or predicate.
    ``keywords_only``: the text's dense index was still being built, so retrieval used keywords
    alone. An abstention says why (``abstained_because``, a key of :data:`ABSTAIN_REASONS`) and
    keeps the best admissible answer it withheld as ``guess`` (``None`` when the reader found
    none). A sentence answer keeps the reader's own span inside it, ``phrase_start`` to
    ``phrase_end`` (document offsets; ``None`` for a span answer, and where the text asked the
    question itself). ``timings``: seconds per stage of this answer."""

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

    @property
    def phrase(self) -> str:
        """The reader's span inside a sentence answer (``""`` when there is none)."""
        if self.phrase_start is None or self.start is None or not self.start <= self.phrase_start < self.phrase_end <= self.end:
            return ""
        return self.answer[self.phrase_start - self.start : self.phrase_end - self.start]

    @property
    def abstained(self) -> bool:
        return not self.answer

    def to_json(self) -> dict:
        """The ``qa ask --json`` object."""
        keys = ("question", "answer", "confidence", "doc_id", "start", "end", "evidence")
        guess = {k: getattr(self.guess, k) for k in ("answer", "confidence", "doc_id", "start", "end", "evidence")} if self.guess else None
        return {
            **{k: getattr(self, k) for k in keys},
            "passages": [asdict(h) for h in self.passages],
            "kind": self.kind,
            "understood_as": self.understood_as or self.question,
            "keywords_only": self.keywords_only,
            "abstained_because": self.abstained_because or None,
            "guess": guess,
            "phrase": {"text": self.phrase, "start": self.phrase_start, "end": self.phrase_end} if self.phrase else None,
        }


def check_question(question: str, max_chars: int | None = None) -> str:
    """The stripped question; ``ValueError`` when it is empty or over ``max_chars`` (default: the settings' limit)."""
    limit = max_chars or defaults().max_question_chars
    if not isinstance(question, str) or not question.strip():
        raise ValueError("问题不能为空 (the question is empty)")
    question = question.strip()
    if len(question) > limit:
        raise ValueError(f"问题太长：最多 {limit} 个字符 (the question has {len(question)} characters, the limit is {limit})")
    return question
