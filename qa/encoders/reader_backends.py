"""The reader's encoder, one interface over its backends, chosen once from the precision:
fp32 and int8 run as ONNX Runtime graphs (:mod:`qa.encoders.onnx_graphs`), bf16 (CPUs with AMX) in torch.

A backend is called as ``backend(input_ids, attention_mask) -> (start_logits, end_logits)``
(numpy, fp32) and says how wide it wants windows padded (``pad_multiple``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.encoders.cpu import PRECISIONS
from qa.encoders.e5.model_files import model_hash
from qa.encoders.e5.packed import Q4Table

READER_WEIGHTS = Path(__file__).parents[1] / "weights" / "reader.safetensors"
LOGITS = ("start_logits", "end_logits")

PAD_MULTIPLE = 32  # default window padding: few distinct input shapes, as oneDNN (torch) caches kernels per shape


class Backend(Protocol):
    pad_multiple: int

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def weights_file(weights: Path) -> Path:
    """``weights`` as a path; ``FileNotFoundError`` when there is no such file."""
    if not Path(weights).is_file():
        raise FileNotFoundError(f"reader weights not found: {weights}")
    return Path(weights)


def load_model(cache: Path, weights: Path | None, word_embeddings: Q4Table):
    """The reader as a torch model (for training, bf16 and graph export): the e5 encoder under
    ``cache`` and a QA head, with the overlay ``weights`` applied (``None``: an untrained head).
    ``word_embeddings``: the retriever's 4-bit table, so both hold one copy."""
    from safetensors.torch import load_file

    from qa.encoders.e5.torch_model import load_bert

    model = load_bert(cache, "BertForQuestionAnswering", word_embeddings)
    if weights is not None:
        state = {k: v.float() for k, v in load_file(weights_file(weights)).items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or missing:
            raise RuntimeError(f"reader weights do not fit the model: missing={missing} unexpected={unexpected}")
    return model


class TorchBf16:
    """The torch model with its Linear weights in bf16, under bf16 autocast; windows padded to
    multiples of ``PAD_MULTIPLE`` tokens, as oneDNN caches kernels per input shape."""

    pad_multiple = PAD_MULTIPLE

    def __init__(self, cache: Path, weights: Path, word_embeddings: Q4Table):
        self.cache, self.weights, self.word_embeddings = cache, weights, word_embeddings

    @cached_property
    def model(self):
        import torch

        model = load_model(self.cache, self.weights, self.word_embeddings)
        for module in model.modules():  # autocast would cast every Linear weight again on each forward (9 ms a pass)
            if isinstance(module, torch.nn.Linear):
                module.to(torch.bfloat16)
        return model

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = self.model(input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(attention_mask))
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()


class OnnxReader:
    """The reader as an ONNX Runtime graph in fp32 or int8, exported from the torch model into
    the cache on first use; no padding (ONNX Runtime has no per-shape kernels to cache)."""

    pad_multiple = 1

    def __init__(self, cache: Path, weights: Path, word_embeddings: Q4Table, precision: str, threads: int):
        from qa.encoders.onnx_graphs import OnnxEncoder

        build = lambda: load_model(cache, weights, word_embeddings)  # noqa: E731
        self.graph = OnnxEncoder(build, word_embeddings, LOGITS, "reader", (model_hash(cache), weights), cache, precision, threads)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.graph(input_ids, attention_mask)
        return start, end


def reader_backend(precision: str, cache: Path, weights: Path, word_embeddings: Q4Table, threads: int) -> Backend:
    """The backend for ``precision``: torch for bf16, an ONNX Runtime graph for fp32 and int8."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "bf16":
        return TorchBf16(cache, weights, word_embeddings)
    return OnnxReader(cache, weights, word_embeddings, precision, threads)
