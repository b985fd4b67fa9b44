"""The assistant: a composition of the pipeline's parts. A question is checked and read in the
text's script (:mod:`qa.conversation.question`), asked alone or with the conversation's help
(:mod:`qa.conversation.policy`), its chunks retrieved (:class:`~qa.retrieval.retriever.Retriever`),
read until one settles it (:mod:`qa.answering.reading_loop`), and answered by the ordered answer
steps, or withheld (:mod:`qa.answering.pipeline`).

With no stages given it builds the common case, the bundled article, with one shared embedder.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from qa.answering import abstention
from qa.answering.calibration import Calibration
from qa.answering.pipeline import AnswerPipeline, timed
from qa.answering.policy import AnswerPolicy
from qa.answering.reading_loop import ReadingLoop
from qa.conversation.follow_ups import Turn
from qa.conversation.policy import answer_in_conversation
from qa.conversation.question import QuestionCheck
from qa.ingest.corpus import Document
from qa.reading.reader import READER_WEIGHTS, Reader
from qa.retrieval.retriever import Retriever
from qa.retrieval.stores.memory import MemoryStore
from qa.settings import Settings, defaults, with_flags
from qa.text.chinese_script import script_of
from qa.types import Answer, Hit


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
        settings: Settings | None = None,
        k: int | None = None,
        calibration: Calibration | None = None,
        abstain_below: float | None = None,
        decisive: float | None | str = "default",
        max_question_chars: int | None = None,
    ):
        """Without a retriever or reader, those of :meth:`from_corpus` for the bundled article.
        ``settings`` (default: :func:`qa.settings.defaults`) are resolved here once and kept;
        ``k``, ``decisive`` and ``max_question_chars`` override theirs (``k`` must be >= 1).
        ``abstain_below`` overrides the calibration's lower grade bound, below which a reply is
        ``none`` (0: never withheld on confidence; ``sure`` still needs ``sure_from``);
        ``decisive``: the confidence at which the best answer so far is taken without reading
        the remaining chunks (``None``: always read all ``k`` chunks together)."""
        settings = with_flags(settings or defaults(), k=k, max_question_chars=max_question_chars)
        if decisive != "default":
            settings = replace(settings, decisive=decisive, sources={**settings.sources, "decisive": "flag"})
        if retriever is None or reader is None:
            built = Assistant.from_corpus(settings=settings)
            retriever, reader = retriever or built.retriever, reader or built.reader
        self.settings = settings
        self.retriever = retriever
        self.reader = reader
        self.policy = AnswerPolicy.load(calibration, abstain_below)
        names = [Path(d.doc_id).name for d in retriever.documents]
        where = abstention.place(names, not isinstance(retriever.store, MemoryStore))
        self.pipeline = AnswerPipeline(self.policy, reader, settings.sentence_answer_chars, settings.no_passage_below, where)
        self.loop = ReadingLoop(reader, self.pipeline, settings.decisive)
        self.questions = QuestionCheck(settings.max_question_chars, script_of([d.text for d in retriever.documents]))

    @property
    def k(self) -> int:
        return self.settings.k

    @property
    def decisive(self) -> float | None:
        return self.settings.decisive

    @property
    def calibration(self) -> Calibration:
        return self.policy.calibration

    @property
    def abstain_below(self) -> float:
        return self.policy.abstain_below

    @classmethod
    def from_corpus(
        cls,
        corpus: list[str | Path] | None = None,
        *,
        documents: list[Document] | None = None,
        store: str | None = None,
        reader_weights: Path | None = READER_WEIGHTS,
        settings: Settings | None = None,
        precision: str | None = None,
        reread: bool | None = None,
        **options,
    ) -> "Assistant":
        """The common case: a retriever over ``corpus`` (default: the bundled article), or over
        the archive ``store`` (a URI, :mod:`qa.retrieval.stores`; default: the settings' store
        when no corpus or documents are given), and the shipped reader, sharing one embedder
        (tokenizer and word embeddings), built with ``settings`` (default:
        :func:`qa.settings.defaults`); ``precision`` and ``reread`` override those two.
        ``options``: keyword arguments of :class:`Assistant`."""
        from qa.encoders.embedder import Embedder

        settings = with_flags(settings or defaults(), precision=precision, reread=reread)
        if store is None and not corpus and documents is None:
            store = settings.store
        embedder = Embedder(settings.cache, settings.threads)
        retriever = Retriever(corpus, documents=documents, embedder=embedder, store=store, fusion_lead=settings.fusion_lead)
        retriever.warm_up()  # jieba, keywords and the query encoder load while the reader does
        reader = Reader(reader_weights, embedder=embedder, precision=settings.precision, reread=settings.reread, settled_gap=settings.settled_gap, threads=settings.threads, top_n=settings.top_n)
        return cls(retriever, reader, settings=settings, **options)

    def ask(self, question: str, k: int | None = None, reread: bool | None = None, abstain_below: float | None = None, history=None) -> Answer:
        """Answer ``question`` from the top ``k`` chunks, graded sure, unsure or none (withheld:
        :class:`~qa.types.Answer` ``grade``). ``history``: the earlier
        turns of this conversation, oldest first (the :class:`Answer` objects ``ask`` returned,
        or ``(question, answer_text)`` pairs); a question that leans on them is read with their
        help (:mod:`qa.conversation`), a self-contained one as if asked alone. ``reread`` and
        ``abstain_below`` override the reader's and the policy's settings for this call. The
        answer carries its stage timings."""
        started = time.perf_counter()
        asked, query = self.questions(question)
        k = self._k(k)

        def respond(reading: str, search: str, earlier: Turn | None) -> Answer:
            return self._retrieve_and_answer(asked, reading, search, earlier, k, reread, abstain_below)

        answer = answer_in_conversation(query, self.questions.turns(history), respond)
        answer.timings["total"] = time.perf_counter() - started
        return answer

    def ask_batch(self, questions: list[str]) -> list[Answer]:
        """Several self-contained questions at once (no history), their readings sharing forward
        passes: each answer is the one :meth:`ask` gives that question alone. ``ValueError`` for
        an empty or overlong question (check them first to answer the rest)."""
        started = time.perf_counter()
        asked, queries = zip(*map(self.questions, questions)) if questions else ((), ())
        keywords_only, hits = self.retriever.keywords_only, [self.retriever.search(q, k=self.k) for q in queries]
        answers = self._read_and_answer(list(asked), list(queries), hits, None, None, keywords_only, {})
        for answer in answers:
            answer.timings["total"] = (time.perf_counter() - started) / len(answers)  # the batch's time per question
        return answers

    def _k(self, k: int | None) -> int:
        if k is not None and (not isinstance(k, int) or k < 1):
            raise ValueError(f"k must be a whole number >= 1, not {k!r}")
        return k or self.k

    def _retrieve_and_answer(self, question: str, query: str, search: str, earlier: Turn | None, k: int, reread: bool | None, abstain_below: float | None) -> Answer:
        """Retrieve with ``search`` (the ``earlier`` answer's passage first), read for ``query``, answer ``question``."""
        timings: dict[str, float] = {}
        keywords_only = self.retriever.keywords_only
        with timed(timings, "retrieve"):
            hits = self.retriever.search(search, k=k)
            if earlier is not None:
                hits = self._earlier_first(earlier, hits)
        (answer,) = self._read_and_answer([question], [query], [hits], reread, abstain_below, keywords_only, timings)
        answer.timings.update(timings)
        return answer

    def _read_and_answer(self, questions: list[str], queries: list[str], hits: list[list[Hit]], reread: bool | None, abstain_below: float | None, keywords_only: bool, timings: dict[str, float]) -> list[Answer]:
        """Each query read over its hits (:class:`ReadingLoop`) and answered by the pipeline."""
        judgements = self.loop.judge(queries, hits, self.reader.reread if reread is None else reread, timings)
        answers = [self._paged(self.pipeline.answer(q, query, j, hs, self.retriever.document_text, abstain_below, timings)) for q, query, j, hs in zip(questions, queries, judgements, hits)]
        return [replace(a, keywords_only=True) if keywords_only else a for a in answers]

    def _paged(self, answer: Answer) -> Answer:
        """``answer`` (and its guess) with the page it starts on, where its document has pages."""
        if answer.guess is not None:
            return replace(answer, guess=self._paged(answer.guess))
        return answer if answer.doc_id is None else replace(answer, page=self.retriever.page_at(answer.doc_id, answer.start))

    def _earlier_first(self, turn: Turn, hits: list[Hit]) -> list[Hit]:
        """``hits`` with the passage of ``turn``'s answer first (found by its text when the turn has no offsets)."""
        place = (turn.doc_id, turn.start) if turn.doc_id is not None and turn.start is not None else self.retriever.find(turn.answer)
        first = self.retriever.hit_at(*place) if place else None
        return hits if first is None else [first, *(h for h in hits if h.chunk_id != first.chunk_id)][: len(hits)]
