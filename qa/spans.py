"""Pure decoding: question/context pairs into token windows, and start/end logits into ranked character spans.

No model here: :func:`encode_windows` needs only a ``tokenizers.Tokenizer``, :func:`decode` and
:func:`span_margin` only logits. A span's score is ``start_logit + end_logit`` minus the
no-answer score ``start_logit[CLS] + end_logit[CLS]`` of the window it comes from
(:func:`margins`): how much the reader prefers this span to "the answer is not in this
window". Measured against each window's own baseline, scores are comparable across windows
and contexts; a score below 0 means the reader would rather say "no answer".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from qa.e5.tokens import encode

MAX_LENGTH = 384
STRIDE = 128
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 32
TOP_N = 5  # spans kept per question
PAD_MULTIPLE = 32  # default window padding: few distinct input shapes, as oneDNN (torch) caches kernels per shape
Shape = Callable[[str, int, int], tuple[int, int]]  # (context, start, end) -> the span's edges after the answer-form rules


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


def margins(start_logits: np.ndarray, end_logits: np.ndarray, w: int) -> np.ndarray:
    """``[n, n]`` scores of window ``w``'s (start, end) token pairs over its no-answer score."""
    return start_logits[w][:, None] + end_logits[w][None, :] - float(start_logits[w, 0] + end_logits[w, 0])


def unshaped(context: str, a: int, b: int) -> tuple[int, int]:
    """The identity :data:`Shape`: a span's edges as the tokens give them."""
    return a, b


def decode(windows: Windows, start_logits: np.ndarray, end_logits: np.ndarray, contexts: list[str], top_n=TOP_N, max_answer_tokens=MAX_ANSWER_TOKENS, shape: Shape = unshaped) -> Reading:
    """Best spans over all windows: context tokens only, ``start <= end < start + max``,
    scored by :func:`margins`; edges moved by ``shape`` (the reader passes the answer-form
    rules for its question), and a span reached from several windows or token pairs listed
    once, at its best score."""
    spans: dict[tuple[int, int, int], Span] = {}
    n = start_logits.shape[1]
    band = span_band(n, max_answer_tokens)
    for w in range(start_logits.shape[0]):
        mask = windows.context[w]
        if not mask.any():
            continue
        scores = np.where(band & mask[:, None] & mask[None, :], margins(start_logits, end_logits, w), -np.inf)
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
            a, b = shape(context, int(offsets[s][0]), int(offsets[e][1]))
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
        score = float(start_logits[w, starts[0]] + end_logits[w, ends[-1]] - start_logits[w, 0] - end_logits[w, 0])  # one entry of margins()
        best = score if best is None else max(best, score)
    return best


