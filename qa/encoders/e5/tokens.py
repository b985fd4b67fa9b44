"""The e5 tokenizer and the one ``encode`` that every stage (queries, passages, reader windows) uses."""

from __future__ import annotations

from pathlib import Path

from qa.encoders.e5 import PAD_TOKEN
from qa.encoders.e5.model_files import ensure_model


def load_tokenizer(cache: Path):
    """The e5 tokenizer, a ``tokenizers.Tokenizer`` (XLM-R unigram pieces, with character
    offsets), loaded without importing transformers (about 1.7 s of a cold start)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(ensure_model(cache) / "tokenizer.json"))


def encode(tokenizer, inputs: list, *, max_length: int | None = None, stride: int = 0, pad_length: int | None = None, pad_multiple: int | None = None, special_tokens: bool = True) -> list:
    """``tokenizer.encode_batch(inputs)``: texts, or (question, context) pairs whose context alone
    is cut to ``max_length`` tokens, in windows overlapping by ``stride`` tokens (the first in
    each encoding, the rest in its ``overflowing``); padded to ``pad_length`` or else to the
    batch's longest, rounded up to ``pad_multiple`` (neither: no padding). The tokenizer holds
    truncation and padding as state, so every call sets both, as transformers' does."""
    if max_length:
        tokenizer.enable_truncation(max_length, stride=stride, strategy="only_second" if inputs and isinstance(inputs[0], tuple) else "longest_first")
    else:
        tokenizer.no_truncation()
    if pad_length or pad_multiple:
        tokenizer.enable_padding(pad_id=tokenizer.token_to_id(PAD_TOKEN), pad_token=PAD_TOKEN, length=pad_length, pad_to_multiple_of=pad_multiple)
    else:
        tokenizer.no_padding()
    return tokenizer.encode_batch(inputs, add_special_tokens=special_tokens)
