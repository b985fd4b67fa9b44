"""The assistant: retrieve the top chunks, read them best first until one settles it, answer or abstain.

It is composed of the stages it is given (``Assistant(retriever, reader)``); with none it
builds the common case, the bundled article, with one shared embedder.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from qa.answer_form import admits, evidence_sentence
from qa.confidence import Calibration, Signals
from qa.corpus import Document
from qa.reader import READER_WEIGHTS, TOP_N, Reader, Reading, Span
from qa.retriever import Hit, Retriever
from qa.script import in_script_of, is_simplified

ABSTAIN_MESSAGE = "文章中没有找到这个问题的答案"
MAX_QUESTION_CHARS = 2000
DEFAULT_K = 3
DECISIVE = 0.6  # on the calibration of qa/weights/calibration.json; see README, "Reading fewer tokens"


@dataclass(frozen=True)
class Answer:
    """The assistant's reply. When it abstains ``answer`` is ``""`` and ``message`` says so;
    otherwise ``document_text(doc_id)[start:end] == answer`` and the answer lies in ``evidence``
    at ``evidence_start`` (a document offset). ``timings``: seconds per stage of this answer."""

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

    @property
    def abstained(self) -> bool:
        return not self.answer

    def to_json(self) -> dict:
        """The ``qa ask --json`` object."""
        keys = ("question", "answer", "confidence", "doc_id", "start", "end", "evidence")
        return {**{k: getattr(self, k) for k in keys}, "passages": [asdict(h) for h in self.passages]}


def check_question(question: str) -> str:
    """The stripped question; ``ValueError`` when it is empty or over ``MAX_QUESTION_CHARS``."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("问题不能为空 (the question is empty)")
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"问题太长：最多 {MAX_QUESTION_CHARS} 个字符 (the question has {len(question)} characters, the limit is {MAX_QUESTION_CHARS})")
    return question


@dataclass(frozen=True)
class DocumentSpan:
    """A reader span in document coordinates, with the retrieved passage it was read in."""

    doc_id: str
    start: int
    end: int
    span: Span
    passage: Hit


def document_spans(spans: list[Span], hits: list[Hit]) -> list[DocumentSpan]:
    """Reader spans in document coordinates, best first; the same span found in two
    overlapping chunks is kept once, as its best-ranked reading (and that chunk)."""
    merged: dict[tuple[str, int, int], DocumentSpan] = {}
    for span in spans:
        hit = hits[span.context_index]
        key = (hit.doc_id, hit.start + span.start, hit.start + span.end)
        if key not in merged or merged[key].span.rank_score < span.rank_score:
            merged[key] = DocumentSpan(*key, span, hit)
    return sorted(merged.values(), key=lambda found: -found.span.rank_score)


@contextmanager
def timed(timings: dict[str, float], stage: str):
    started = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - started


class Assistant:
    """Question answering over a corpus: a :class:`Retriever` and a :class:`Reader`.

    >>> Assistant().ask("长安汽车新能源汽车年销量突破了多少？").answer
    '100万辆'
    """

    def __init__(
        self,
        retriever: Retriever | None = None,
        reader: Reader | None = None,
        *,
        k: int = DEFAULT_K,
        calibration: Calibration | None = None,
        abstain_below: float | None = None,
        decisive: float | None = DECISIVE,
    ):
        """Without a retriever or reader, those of :meth:`from_corpus` for the bundled article.
        ``abstain_below`` overrides the calibration's threshold (0: never abstain on confidence);
        ``decisive``: the confidence at which the best answer so far is taken without reading
        the remaining chunks (``None``: always read all ``k`` chunks together)."""
        if retriever is None or reader is None:
            built = Assistant.from_corpus()
            retriever, reader = retriever or built.retriever, reader or built.reader
        self.retriever = retriever
        self.reader = reader
        self.k = k
        self.decisive = decisive
        self.calibration = calibration or Calibration.load()
        self.abstain_below = self.calibration.abstain_below if abstain_below is None else abstain_below
        self.simplified_corpus = all(is_simplified(d.text) for d in retriever.documents)

    @classmethod
    def from_corpus(
        cls,
        corpus: list[str | Path] | None = None,
        *,
        documents: list[Document] | None = None,
        reader_weights: Path | None = READER_WEIGHTS,
        precision: str | None = None,
        reread: bool = True,
        **settings,
    ) -> "Assistant":
        """The common case: a retriever over ``corpus`` (default: the bundled article) and the
        shipped reader, sharing one embedder (tokenizer and word embeddings)."""
        from qa.embedder import Embedder

        embedder = Embedder()
        retriever = Retriever(corpus, documents=documents, embedder=embedder)
        reader = Reader(reader_weights, embedder=embedder, precision=precision, reread=reread)
        return cls(retriever, reader, **settings)

    def ask(self, question: str, k: int | None = None, reread: bool | None = None) -> Answer:
        """Answer ``question`` from the top ``k`` chunks, or abstain. ``reread`` overrides the
        reader's setting for this call. The answer carries its stage timings."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question = check_question(question)
        query = in_script_of(question, self.simplified_corpus)  # 長安汽車… -> 长安汽车… for a Simplified text
        with timed(timings, "retrieve"):
            hits = self.retriever.search(query, k=k or self.k)
        contexts = [h.text for h in hits]
        with timed(timings, "read"):
            reading = self._read(query, contexts)
        if self.reader.reread if reread is None else reread:
            with timed(timings, "reread"):
                (reading,) = self.reader.read_sentences([(query, contexts)], [reading])
        spans = document_spans([s for s in reading.spans if admits(query, s.text)], hits)
        answer = self._answer(question, query, spans, hits)
        timings["total"] = time.perf_counter() - started
        answer.timings.update(timings)
        return answer

    def _read(self, query: str, contexts: list[str]) -> Reading:
        """The reader's spans over ``contexts``. With ``decisive`` set, the chunks are read one
        at a time, best-ranked first, until the best admissible answer so far has a confidence
        of at least ``decisive``: most questions are settled by one chunk's tokens."""
        if self.decisive is None:
            return self.reader.run(query, contexts, reread=False)
        spans: list[Span] = []
        for index, context in enumerate(contexts):
            spans += [replace(s, context_index=index) for s in self.reader.run(query, [context], reread=False).spans]
            spans.sort(key=lambda s: s.score, reverse=True)
            best = next((s for s in spans if admits(query, s.text)), None)
            if best and self.calibration.judge(query, best.score, contexts[best.context_index])[1] >= self.decisive:
                break
        return Reading(spans[:TOP_N])

    def _answer(self, question: str, query: str, spans: list[DocumentSpan], hits: list[Hit]) -> Answer:
        if not spans:
            return Answer(question, "", 0.0, None, None, None, "", None, hits, ABSTAIN_MESSAGE)
        best = spans[0]
        signals, confidence = self.calibration.judge(query, best.span.score, best.passage.text)
        if confidence < self.abstain_below:
            return Answer(question, "", confidence, None, None, None, "", None, hits, ABSTAIN_MESSAGE, signals)
        text = self.retriever.document_text(best.doc_id)
        evidence, evidence_start = evidence_sentence(text, best.start, best.end)
        return Answer(question, text[best.start : best.end], confidence, best.doc_id, best.start, best.end, evidence, evidence_start, hits, "", signals)
