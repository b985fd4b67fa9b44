"""Pure decoding: start/end logits of token windows (:mod:`qa.reading.windows`) into ranked character spans.

No model here: :func:`decode` and :func:`span_margin` need only logits. A span's score is ``start_logit + end_logit`` minus the
no-answer score ``start_logit[CLS] + end_logit[CLS]`` of the window it comes from
(:func:`margins`): how much the reader prefers this span to "the answer is not in this
window". Measured against each window's own baseline, scores are comparable across windows
and contexts; a score below 0 means the reader would rather say "no answer".
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from qa.reading.windows import MAX_ANSWER_TOKENS, Windows
from qa.settings import TOP_N
from qa.types import Reading, Span

Shape = Callable[[str, int, int], tuple[int, int]]  # (context, start, end) -> the span's edges after the answer's shaping steps


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
    scored by :func:`margins`; edges moved by ``shape`` (the answer pipeline's shaping steps
    for the question, :meth:`qa.answering.pipeline.AnswerPipeline.shaper`; the raw edges are
    kept on the span), and a span reached from several windows or token pairs listed once, at
    its best score."""
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
            raw = int(offsets[s][0]), int(offsets[e][1])
            a, b = shape(context, *raw)
            if a == b:
                continue
            key = (ctx_index, a, b)
            score = float(scores[s, e])
            if key not in spans or spans[key].score < score:
                spans[key] = Span(context[a:b], ctx_index, a, b, score, raw_start=None if raw == (a, b) else raw[0], raw_end=None if raw == (a, b) else raw[1])
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


