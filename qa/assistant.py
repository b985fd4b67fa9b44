"""The assistant: retrieve the top chunks, read them in one batch, answer or abstain."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.corpus import Document
from qa.embedder import Embedder
from qa.reader import READER_WEIGHTS, Reader, Span, sentence_bounds
from qa.retriever import Hit, Retriever, tokenize

ABSTAIN_MESSAGE = "文章中没有找到这个问题的答案"
MAX_QUESTION_CHARS = 2000
DEFAULT_K = 3
# confidence = sigmoid(W_MARGIN * margin + W_SUPPORT * support + BIAS), fitted by eval/calibrate.py
W_MARGIN = 0.2311
W_SUPPORT = 3.1145
BIAS = -3.2777
ABSTAIN_BELOW = 0.20  # best overall F1 on eval/questions.jsonl (eval/calibrate.py)
HOW_MANY = re.compile(r"多少|(?<!哪)几(?=[个名家项次年月天日岁位种条座所件本辆台部层届万千百十])")  # 哪几个 asks for a list
NUMERAL = re.compile(r"[\d零〇一二三四五六七八九十百千万亿两半数]")


@dataclass(frozen=True)
class Signals:
    """What the confidence is computed from: the reader's best-span score (its margin over
    "no answer" in its window), and the share of the question's content words found in the
    answer's passage."""

    margin: float
    support: float


@dataclass(frozen=True)
class Answer:
    """The assistant's reply. When it abstains ``answer`` is ``""`` and ``message`` says so;
    otherwise ``document_text(doc_id)[start:end] == answer`` and the answer lies in ``evidence``
    at ``evidence_start`` (a document offset)."""

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


def evidence_sentence(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence(s) of ``text`` around ``[start, end)``, and where they start."""
    left, right = sentence_bounds(text, start, end)
    return text[left:right].rstrip(), left


@dataclass(frozen=True)
class DocumentSpan:
    """A reader span in document coordinates, with the retrieved passage it was read in."""

    doc_id: str
    start: int
    end: int
    span: Span
    passage: Hit


def fits_question(question: str, answer: str) -> bool:
    """False for an answer whose form rules it out: a how-many question (多少, 几个, …)
    answered without a numeral. Every gold answer of the 259 such CMRC 2018 dev questions has one."""
    return not HOW_MANY.search(question) or bool(NUMERAL.search(answer))


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


def support(question: str, passage: str) -> float:
    """Share of the question's content words (jieba, no question words) that occur in ``passage``."""
    words = set(tokenize(question))
    return sum(1 for w in words if w in passage.lower()) / len(words) if words else 0.0


def confidence_of(signals: Signals) -> float:
    z = W_MARGIN * signals.margin + W_SUPPORT * signals.support + BIAS
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class Assistant:
    """Question answering over a corpus (default: the bundled article).

    >>> Assistant().ask("长安汽车新能源汽车年销量突破了多少？").answer
    '100万辆'
    """

    def __init__(
        self,
        corpus: list[str | Path] | None = None,
        k: int = DEFAULT_K,
        documents: list[Document] | None = None,
        reader_weights: Path | None = READER_WEIGHTS,
        abstain_below: float = ABSTAIN_BELOW,
        reread: bool = False,
    ):
        """``reread``: read the top spans again in their sentences (:meth:`Reader.read_sentences`)."""
        embedder = Embedder()
        self.retriever = Retriever(corpus, documents=documents, embedder=embedder)
        self.reader = Reader(reader_weights, embedder=embedder, reread=reread)
        self.k = k
        self.abstain_below = abstain_below

    def ask(self, question: str, k: int | None = None) -> Answer:
        """Answer ``question`` from the top ``k`` chunks, or abstain."""
        question = check_question(question)
        hits = self.retriever.search(question, k=k or self.k)
        reading = self.reader.run(question, [h.text for h in hits])
        spans = document_spans([s for s in reading.spans if fits_question(question, s.text)], hits)
        if not spans:
            return Answer(question, "", 0.0, None, None, None, "", None, hits, ABSTAIN_MESSAGE)
        best = spans[0]
        doc_id, start, end = best.doc_id, best.start, best.end
        signals = Signals(best.span.score, support(question, best.passage.text))
        confidence = confidence_of(signals)
        if confidence < self.abstain_below:
            return Answer(question, "", confidence, None, None, None, "", None, hits, ABSTAIN_MESSAGE, signals)
        text = self.retriever.document_text(doc_id)
        evidence, evidence_start = evidence_sentence(text, start, end)
        return Answer(question, text[start:end], confidence, doc_id, start, end, evidence, evidence_start, hits, "", signals)

    def run(self, question: str, k: int | None = None) -> Answer:
        """Pipeline-component alias of :meth:`ask`."""
        return self.ask(question, k)
