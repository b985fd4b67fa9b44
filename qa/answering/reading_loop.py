"""The reading loop: the reader over each question's retrieved chunks, best-ranked first, until
one settles it (the early stop); the top spans read again in their sentences; and a question
whose early stop the re-reading overturned read again over all its chunks (the redo).

Every round is one forward pass for all the questions still reading, so ``ask_batch`` shares
passes; each judgement is the one the question would get alone.
"""

from __future__ import annotations

from dataclasses import replace

from qa.answering.pipeline import AnswerPipeline, timed
from qa.types import Hit, Judgement, Reading, Span


class ReadingLoop:
    """Reads for the ``pipeline``'s judgement with ``reader``. ``decisive``: the confidence at
    which the best answer so far is taken without reading the remaining chunks (``None``: read
    all chunks together)."""

    def __init__(self, reader, pipeline: AnswerPipeline, decisive: float | None):
        self.reader = reader
        self.pipeline = pipeline
        self.decisive = decisive

    def judge(self, queries: list[str], hits: list[list[Hit]], reread: bool, timings: dict[str, float], decisive: float | None | str = "default") -> list[Judgement | None]:
        """Each query's judgement over its hits, the stages' seconds (``read``, ``reread``)
        added to ``timings``. A query that stopped early and whose judgement the re-reading put
        below the early stop's own bar (``decisive``) is read again over all its chunks."""
        decisive = self.decisive if decisive == "default" else decisive
        with timed(timings, "read"):
            readings, early = self.read(queries, hits, decisive)
        if reread:
            with timed(timings, "reread"):
                readings = self.reader.read_sentences([(q, [h.text for h in hs]) for q, hs in zip(queries, hits)], readings)
        judgements = [self.pipeline.judge(q, r.spans, hs) for q, r, hs in zip(queries, readings, hits)]
        redo = [i for i in sorted(early) if (judgements[i].confidence if judgements[i] else 0.0) < decisive]
        if redo:
            again = self.judge([queries[i] for i in redo], [hits[i] for i in redo], reread, timings, None)
            judgements = [dict(zip(redo, again)).get(i, j) for i, j in enumerate(judgements)]
        return judgements

    def read(self, queries: list[str], hits: list[list[Hit]], decisive: float | None) -> tuple[list[Reading], set[int]]:
        """The reader's spans for each query over its hits' texts (every round one forward pass
        for all queries), and the queries settled before their last chunk. With ``decisive``,
        chunks are read one at a time, best-ranked first, until the best admissible answer so
        far has a confidence of at least ``decisive``: most questions are settled by one chunk's tokens."""
        contexts = [[h.text for h in hs] for hs in hits]
        shaper = self.pipeline.shaper
        if decisive is None:
            return self.reader.run_batch(list(zip(queries, contexts)), reread=False, shaper=shaper), set()
        early: set[int] = set()
        spans: list[list[Span]] = [[] for _ in queries]
        reading = [i for i, c in enumerate(contexts) if c]
        for index in range(max(map(len, contexts), default=0)):
            reading = [i for i in reading if index < len(contexts[i])]
            if not reading:
                break
            found = self.reader.run_batch([(queries[i], [contexts[i][index]]) for i in reading], reread=False, shaper=shaper)
            unsettled = []
            for i, new in zip(reading, found):
                spans[i] = sorted(spans[i] + [replace(s, context_index=index) for s in new.spans], key=lambda s: s.score, reverse=True)
                judgement = self.pipeline.judge(queries[i], spans[i], hits[i])
                if not (judgement and judgement.confidence >= decisive):
                    unsettled.append(i)
                elif index + 1 < len(contexts[i]):
                    early.add(i)
            reading = unsettled
        return [Reading(found[: self.reader.top_n]) for found in spans], early
