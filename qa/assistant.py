"""The assistant: retrieve the top chunks, read them best first until one settles it, answer or abstain.

It is composed of the stages it is given (``Assistant(retriever, reader)``); with none it
builds the common case, the bundled article, with one shared embedder.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from qa.answer import ABSTAIN_MESSAGE, ABSTAIN_REASONS, Answer, check_question
from qa.answer_form import chosen_span, evidence_sentence
from qa.antecedent import antecedent
from qa.confidence import Calibration, coverage
from qa.conversation import Turn, as_turns, follow_up, leans_back
from qa.corpus import Document
from qa.fusion import Hit
from qa.policy import AnswerPolicy, Judgement
from qa.reader import READER_WEIGHTS, Reader
from qa.retriever import Retriever
from qa.script import in_script_of, is_simplified
from qa.sentence_answers import echoed_answer, sentence_answer, sentence_question
from qa.settings import Settings, defaults
from qa.spans import TOP_N, Reading, Span

NO_PASSAGE_BELOW = 0.5  # no passage holds half the question's content (by characters): none matched


@contextmanager
def timed(timings: dict[str, float], stage: str):
    started = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


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
        k: int | None = None,
        calibration: Calibration | None = None,
        abstain_below: float | None = None,
        decisive: float | None | str = "default",
        max_question_chars: int | None = None,
    ):
        """Without a retriever or reader, those of :meth:`from_corpus` for the bundled article.
        ``k``, ``decisive`` and ``max_question_chars`` default to the settings'
        (:func:`qa.settings.defaults`). ``abstain_below`` overrides the calibration's threshold
        (0: never abstain on confidence); ``decisive``: the confidence at which the best answer
        so far is taken without reading the remaining chunks (``None``: always read all ``k``
        chunks together)."""
        if retriever is None or reader is None:
            built = Assistant.from_corpus()
            retriever, reader = retriever or built.retriever, reader or built.reader
        settings = defaults()
        self.retriever = retriever
        self.reader = reader
        self.k = k or settings.k
        self.decisive = settings.decisive if decisive == "default" else decisive
        self.max_question_chars = max_question_chars or settings.max_question_chars
        self.policy = AnswerPolicy.load(calibration, abstain_below)
        self.simplified_corpus = all(is_simplified(d.text) for d in retriever.documents)

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
        the archive ``store`` (a URI, :mod:`qa.store`; default: the settings' store when no
        corpus or documents are given), and the shipped reader, sharing one embedder (tokenizer
        and word embeddings), built with ``settings`` (default: :func:`qa.settings.defaults`);
        ``precision`` and ``reread`` override those two. ``options``: keyword arguments of :class:`Assistant`."""
        from qa.embedder import Embedder

        settings = settings or defaults()
        if store is None and not corpus and documents is None:
            store = settings.store
        embedder = Embedder(settings.cache, settings.threads)
        retriever = Retriever(corpus, documents=documents, embedder=embedder, store=store)
        reader = Reader(
            reader_weights,
            embedder=embedder,
            precision=precision or settings.precision,
            reread=settings.reread if reread is None else reread,
            threads=settings.threads,
        )
        options = {"k": settings.k, "decisive": settings.decisive, "max_question_chars": settings.max_question_chars, **options}
        return cls(retriever, reader, **options)

    def ask(self, question: str, k: int | None = None, reread: bool | None = None, abstain_below: float | None = None, history=None) -> Answer:
        """Answer ``question`` from the top ``k`` chunks, or abstain. ``history``: the earlier
        turns of this conversation, oldest first (the :class:`Answer` objects ``ask`` returned,
        or ``(question, answer_text)`` pairs); a question that leans on them is read with their
        help (:mod:`qa.conversation`), a self-contained one as if asked alone. ``reread`` and
        ``abstain_below`` override the reader's and the policy's settings for this call. The
        answer carries its stage timings."""
        started = time.perf_counter()
        question = check_question(question, self.max_question_chars)
        query = in_script_of(question, self.simplified_corpus)  # 長安汽車… -> 长安汽车… for a Simplified text
        turns = [replace(t, question=in_script_of(t.question, self.simplified_corpus)) for t in as_turns(history)]
        plan = follow_up(query, turns)
        options = (k, reread, abstain_below)
        answer = None
        if plan is None or not leans_back(query):  # self-contained, or maybe an elided subject: alone first
            answer = self._respond(question, query, query, None, *options)
        if plan is not None and (answer is None or answer.abstained):
            tried = [self._respond(question, asked, plan.search, plan.turn, *options) for asked in plan.readings]
            surest = max(tried, key=lambda a: (not a.abstained, a.confidence))
            answer = surest if answer is None or not surest.abstained else answer
        answer.timings["total"] = time.perf_counter() - started
        return answer

    def ask_batch(self, questions: list[str]) -> list[Answer]:
        """Several self-contained questions at once (no history), their readings sharing forward
        passes: each answer is the one :meth:`ask` gives that question alone. ``ValueError`` for
        an empty or overlong question (check them first to answer the rest)."""
        started = time.perf_counter()
        asked = [check_question(q, self.max_question_chars) for q in questions]
        queries = [in_script_of(q, self.simplified_corpus) for q in asked]
        keywords_only, hits = self.retriever.keywords_only, [self.retriever.search(q, k=self.k) for q in queries]
        answers = self._answers(asked, queries, hits, None, None, keywords_only, {})
        for answer in answers:
            answer.timings["total"] = (time.perf_counter() - started) / len(asked)  # the batch's time per question
        return answers

    def _respond(self, question: str, query: str, search: str, earlier: Turn | None, k: int | None, reread: bool | None, abstain_below: float | None) -> Answer:
        """Retrieve with ``search`` (the ``earlier`` answer's passage first), read for ``query``, answer ``question``."""
        timings: dict[str, float] = {}
        keywords_only = self.retriever.keywords_only
        with timed(timings, "retrieve"):
            hits = self.retriever.search(search, k=k or self.k)
            if earlier is not None:
                hits = self._earlier_first(earlier, hits)
        (answer,) = self._answers([question], [query], [hits], reread, abstain_below, keywords_only, timings)
        answer.timings.update(timings)
        return answer

    def _answers(self, questions: list[str], queries: list[str], hits: list[list[Hit]], reread: bool | None, abstain_below: float | None, keywords_only: bool, timings: dict[str, float], decisive: float | None | str = "default") -> list[Answer]:
        """Each query read over its hits (all queries' chunks in shared passes, then their sentences
        again), judged and answered, the stages' seconds added to ``timings``; a query whose early
        stop the re-reading overturned (now below the policy's threshold) is read again in full."""
        with timed(timings, "read"):
            readings, early = self._read_many(queries, hits, self.decisive if decisive == "default" else decisive)
        if self.reader.reread if reread is None else reread:
            with timed(timings, "reread"):
                readings = self.reader.read_sentences([(q, [h.text for h in hs]) for q, hs in zip(queries, hits)], readings)
        answers = []
        for question, query, hs, reading in zip(questions, queries, hits, readings):
            answer = self._answer(question, query, self.policy.judge(query, reading.spans, [h.text for h in hs], hs), hs, abstain_below)
            answers.append(replace(answer, keywords_only=True) if keywords_only else answer)
        redo = [i for i in sorted(early) if answers[i].confidence < self.abstain_below]  # by the policy's threshold, whatever this call's
        again = dict(zip(redo, self._answers(*([seq[i] for i in redo] for seq in (questions, queries, hits)), reread, abstain_below, keywords_only, timings, None))) if redo else {}
        return [again.get(i, answer) for i, answer in enumerate(answers)]

    def _earlier_first(self, turn: Turn, hits: list[Hit]) -> list[Hit]:
        """``hits`` with the passage of ``turn``'s answer first (found by its text when the turn has no offsets)."""
        place = (turn.doc_id, turn.start) if turn.doc_id is not None and turn.start is not None else self.retriever.find(turn.answer)
        first = self.retriever.hit_at(*place) if place else None
        return hits if first is None else [first, *(h for h in hits if h.chunk_id != first.chunk_id)][: len(hits)]

    def _read_many(self, queries: list[str], hits: list[list[Hit]], decisive: float | None) -> tuple[list[Reading], set[int]]:
        """The reader's spans for each query over its hits' texts (every round one forward pass for
        all queries), and the queries settled before their last chunk. With ``decisive``, chunks
        are read one at a time, best-ranked first, until the best admissible answer so far has a
        confidence of at least ``decisive``: most questions are settled by one chunk's tokens."""
        contexts = [[h.text for h in hs] for hs in hits]
        if decisive is None:
            return self.reader.run_batch(list(zip(queries, contexts)), reread=False), set()
        early: set[int] = set()
        spans: list[list[Span]] = [[] for _ in queries]
        reading = [i for i, c in enumerate(contexts) if c]
        for index in range(max(map(len, contexts), default=0)):
            reading = [i for i in reading if index < len(contexts[i])]
            if not reading:
                break
            found = self.reader.run_batch([(queries[i], [contexts[i][index]]) for i in reading], reread=False)
            unsettled = []
            for i, new in zip(reading, found):
                spans[i] = sorted(spans[i] + [replace(s, context_index=index) for s in new.spans], key=lambda s: s.score, reverse=True)
                judgement = self.policy.judge(queries[i], spans[i], contexts[i], hits[i])
                if not (judgement and judgement.confidence >= decisive):
                    unsettled.append(i)
                elif index + 1 < len(contexts[i]):
                    early.add(i)
            reading = unsettled
        return [Reading(found[:TOP_N]) for found in spans], early

    def _answer(self, question: str, query: str, judgement: Judgement | None, hits: list[Hit], abstain_below: float | None) -> Answer:
        """The answer in document coordinates, with its evidence sentence (for a sentence
        question, the sentence is the answer); or an abstention."""
        understood = query if query != question else ""
        if not self.policy.answers(judgement, abstain_below):
            return self._abstention(question, query, judgement, hits, understood)
        hit = hits[judgement.span.context_index]
        start, end = hit.start + judgement.span.start, hit.start + judgement.span.end
        kind = "sentence" if sentence_question(query) else "span"
        echo = next(((h, h.start + at) for h in hits if (at := echoed_answer(h.text, query)) is not None), None) if kind == "sentence" else None
        if echo:  # the text asks the question itself, and its next sentence answers it
            (hit, start), end = echo, echo[1]
        text = self.retriever.document_text(hit.doc_id)
        phrase = (start, end) if kind == "sentence" and not echo else (None, None)  # a sentence answer: the reader's span inside it
        if kind == "sentence":
            start, end = sentence_answer(text, start, max(end, start + 1))
            evidence, evidence_start = text[start:end], start
        else:
            start, end = chosen_span(query, text, start, end)  # 重庆理工大学的呢？ -> 智慧光电, not the whole list
            start, end = antecedent(self.reader, query, text, start, end) or (start, end)  # 这份榜单 -> the list named before
            evidence, evidence_start = evidence_sentence(text, start, end)
        return Answer(question, text[start:end], judgement.confidence, hit.doc_id, start, end, evidence, evidence_start, hits, "", judgement.signals, kind=kind, understood_as=understood, phrase_start=phrase[0], phrase_end=phrase[1])

    def _abstention(self, question: str, query: str, judgement: Judgement | None, hits: list[Hit], understood: str) -> Answer:
        """No answer, the reason why, and the best admissible answer withheld (the guess)."""
        if max((coverage(query, h.text) for h in hits), default=0.0) < NO_PASSAGE_BELOW:
            reason = "no_passage"
        elif judgement is None or judgement.signals.margin < 0:
            reason = "not_answered"
        else:
            reason = "unsure"
        guess = self._answer(question, query, judgement, hits, 0.0) if judgement else None
        confidence, signals = (judgement.confidence, judgement.signals) if judgement else (0.0, None)
        return Answer(question, "", confidence, None, None, None, "", None, hits, f"{ABSTAIN_MESSAGE}：{ABSTAIN_REASONS[reason]}", signals, understood_as=understood, abstained_because=reason, guess=guess)
