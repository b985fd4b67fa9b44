"""Question/context pairs as overlapping token windows, the reader's input (only a
``tokenizers.Tokenizer`` needed, no model)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.encoders.e5.tokens import encode
from qa.encoders.reader_backends import PAD_MULTIPLE

MAX_LENGTH = 384
STRIDE = 128
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 32


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
