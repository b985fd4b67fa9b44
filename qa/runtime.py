"""ONNX Runtime graphs of the e5 encoder (query embedding, reader), exported once into the cache.

Torch pays a fixed cost per op and repacks each weight matrix per call: a 20-token query
takes about 47 ms through the torch encoder and 16 ms (fp32) through ONNX Runtime, whose
MLAS kernels hold the weights prepacked. ``int8`` quantises the weights of the MatMuls per
output channel (dynamic activations), except the feed-forward output projections, whose
outliers cost most (first 200 CMRC dev questions, F1 76.93 in fp32: 75.75 with every MatMul
in int8, 76.52 without those 12); embeddings, LayerNorms and attention products stay fp32. Without VNNI (AVX2 or AVX-512 alone, or an ISA cap below it) the u8 x s8 products are summed
in 16 bits and may saturate, so there the weights keep 7 bits (ONNX Runtime's ``reduce_range``).

The word-embedding lookup stays in torch (the shared 4-bit rows of
:mod:`qa.word_embeddings`): a graph takes ``inputs_embeds`` and ``attention_mask``, so it
holds no 384 MB vocabulary matrix. Graphs go to ``$QA_CACHE/onnx/KEY/``, keyed by the
weights they hold and the library versions, written to a temporary folder first and renamed,
so an interrupted export is redone, never half-read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from qa.cpu import int8_dot_products, usable_cores
from qa.settings import cache_dir

GRAPH_PRECISIONS = ("fp32", "int8")
OPSET = 17
INT8_RECIPE = "MatMul weights per channel, feed-forward output projections fp32"  # in the cache key


def weights_key(module, name: str, precision: str) -> str:
    """A cache key for ``module``'s weights exported as ``name`` in ``precision`` (for int8,
    with or without VNNI)."""
    int8 = f"{INT8_RECIPE}/{int8_dot_products()}" if precision == "int8" else ""
    digest = hashlib.sha256(f"{name}/{precision}/{OPSET}/{int8}".encode())
    for package in ("torch", "transformers", "onnxruntime"):
        digest.update(metadata.version(package).encode())
    for key, tensor in sorted(module.state_dict().items()):
        if "word_embeddings" not in key:
            digest.update(key.encode())
            digest.update(tensor.detach().float().contiguous().numpy())  # the buffer itself, no copy
    return digest.hexdigest()[:16]


def from_embeddings(module, outputs: tuple[str, ...]):
    """``module(inputs_embeds=..., attention_mask=...)`` as a module returning ``outputs``."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = module

        def forward(self, inputs_embeds, attention_mask):
            out = self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
            return tuple(getattr(out, name) for name in outputs)

    return Graph().eval()


def export(module, outputs: tuple[str, ...], path: Path, precision: str) -> None:
    """Write ``module`` (an e5 ``BertModel`` or ``BertForQuestionAnswering``) as an ONNX graph
    from ``inputs_embeds`` to its ``outputs``, int8-quantised if asked."""
    import torch

    if precision not in GRAPH_PRECISIONS:
        raise ValueError(f"graph precision must be one of {GRAPH_PRECISIONS}, not {precision!r}")
    hidden = module.config.hidden_size
    axes = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes.update({name: {0: "batch", 1: "tokens"} for name in outputs})
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notes on ops it rewrites
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                from_embeddings(module, outputs),
                (torch.zeros(2, 16, hidden), torch.ones(2, 16, dtype=torch.int64)),
                str(fp32),
                input_names=["inputs_embeds", "attention_mask"],
                output_names=list(outputs),
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            import onnx

            ffn_out = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]
            quantize_dynamic(
                str(fp32),
                str(Path(tmp) / "int8.onnx"),
                per_channel=True,
                reduce_range=not int8_dot_products(),
                op_types_to_quantize=["MatMul"],
                nodes_to_exclude=ffn_out,
                weight_type=QuantType.QInt8,
            )
        os.replace(Path(tmp) / f"{precision}.onnx", path)


class OnnxEncoder:
    """An e5 encoder run by ONNX Runtime: ``encoder(input_ids, attention_mask)`` returns the
    graph's outputs (numpy, fp32). ``threads`` intra-op threads that sleep rather than spin
    when idle, so a busy neighbour process gets the core back."""

    def __init__(self, module, outputs: tuple[str, ...], name: str, precision: str = "fp32", threads: int | None = None):
        import onnxruntime as ort

        self.word_embeddings = module.get_input_embeddings()
        self.outputs = outputs
        folder = cache_dir() / "onnx" / weights_key(module, name, precision)
        self.path = folder / f"{name}.{precision}.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or usable_cores()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        for attempt in range(2):
            if not self.path.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                export(module, outputs, self.path, precision)
            try:
                self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
                break
            except Exception:  # a damaged file in the cache: export again, once
                if attempt:
                    raise
                shutil.rmtree(folder, ignore_errors=True)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            embeds = self.word_embeddings(torch.from_numpy(np.ascontiguousarray(input_ids))).numpy()
        return self.session.run(list(self.outputs), {"inputs_embeds": embeds, "attention_mask": attention_mask.astype(np.int64)})
