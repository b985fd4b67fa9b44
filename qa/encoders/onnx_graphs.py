"""ONNX Runtime graphs of the e5 encoder (query embedding, reader), exported once into the cache.

Torch pays a fixed cost per op and repacks each weight matrix per call: a 20-token query
takes about 47 ms through the torch encoder and 16 ms (fp32) through ONNX Runtime, whose
MLAS kernels hold the weights prepacked. A process that finds its graphs in the cache
answers without importing torch or transformers' models at all (about 5 s of a cold start).

``int8`` quantises the weights of the MatMuls per output channel (dynamic activations),
except the feed-forward output projections, whose outliers cost most (first 200 CMRC dev
questions, F1 76.93 in fp32: 75.75 with every MatMul in int8, 76.52 without those 12);
embeddings, LayerNorms and attention products stay fp32. Without VNNI (AVX2 or AVX-512 alone,
or an ISA cap below it) the u8 x s8 products are summed in 16 bits and may saturate, so there
the weights keep 7 bits (ONNX Runtime's ``reduce_range``).

The word-embedding lookup stays outside (the shared 4-bit rows of
:mod:`qa.word_embeddings`, in numpy): a graph takes ``inputs_embeds`` and ``attention_mask``,
so it holds no 384 MB vocabulary matrix. Graphs go to ``$QA_CACHE/onnx/KEY/``, keyed by the
files their weights come from and the library versions, built in a staging folder and
renamed (:func:`qa.encoders.cache_files.staged`), so an interrupted export is redone, never half-read. Each use touches the graph's folder;
beyond the ``KEEP_GRAPHS`` most recently used of a name and precision (an 86 MB reader graph
per weights file evaluated) the older ones are removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from qa.encoders.cache_files import cache_key, staged
from qa.encoders.cpu import int8_dot_products
from qa.encoders.e5.packed import Q4Table

GRAPH_PRECISIONS = ("fp32", "int8")
OPSET = 17
INT8_RECIPE = "MatMul weights per channel, feed-forward output projections fp32"  # in the cache key
EXPORT_RECIPE = "inputs_embeds, eager attention"  # in the cache key
KEEP_GRAPHS = 3  # most recently used graphs kept per name and precision


def graph_key(sources: tuple[str | Path, ...], name: str, precision: str) -> str:
    """A cache key for the graph ``name`` in ``precision`` built from ``sources``: digests
    (strings) and weight files (paths, hashed by content), with the export recipe, the library
    versions and, for int8, whether the CPU has VNNI. No torch is needed to compute it."""
    int8 = f"{INT8_RECIPE}/{int8_dot_products()}" if precision == "int8" else ""
    versions = [metadata.version(package) for package in ("torch", "transformers", "onnxruntime")]
    return cache_key(f"{name}/{precision}/{OPSET}/{EXPORT_RECIPE}/{int8}", *versions, *sources)


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
    from ``inputs_embeds`` to its ``outputs``, int8-quantised if asked.

    Attention is exported in its eager form (MatMul, Softmax, MatMul), not as PyTorch's fused
    SDPA: ONNX Runtime runs that about 15 % faster than torch itself on reader windows, the
    SDPA export about 20 % slower (Xeon @2.50GHz, 2 threads; README, "ONNX Runtime")."""
    import torch

    if precision not in GRAPH_PRECISIONS:
        raise ValueError(f"graph precision must be one of {GRAPH_PRECISIONS}, not {precision!r}")
    module.set_attn_implementation("eager")
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
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

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


def prune(root: Path, file_name: str, keep: int = KEEP_GRAPHS) -> None:
    """Remove the folders under ``root`` holding a ``file_name`` graph, all but the ``keep`` most
    recently used (a loaded session holds its graph in memory; a removed one is exported again)."""

    def last_used(folder: Path) -> float:
        try:
            return folder.stat().st_mtime
        except FileNotFoundError:  # pruned by another process meanwhile
            return 0.0

    folders = sorted((graph.parent for graph in root.glob(f"*/{file_name}")), key=last_used, reverse=True)
    for stale in folders[keep:]:
        shutil.rmtree(stale, ignore_errors=True)


class OnnxEncoder:
    """An e5 encoder run by ONNX Runtime: ``encoder(input_ids, attention_mask)`` returns the
    graph's outputs (numpy, fp32). The graph is looked up under :func:`graph_key` of
    ``sources``; only when it is missing (or damaged) is ``build()`` called for the torch module
    to export, into ``cache/onnx``. ``threads`` intra-op threads that sleep rather than spin
    when idle, so a busy neighbour process gets the core back."""

    def __init__(
        self,
        build: Callable[[], object],
        word_embeddings: Q4Table,
        outputs: tuple[str, ...],
        name: str,
        sources: tuple[str | Path, ...],
        cache: Path,
        precision: str,
        threads: int,
    ):
        import onnxruntime as ort

        self.word_embeddings = word_embeddings
        self.outputs = outputs
        folder = Path(cache) / "onnx" / graph_key(sources, name, precision)
        self.path = folder / f"{name}.{precision}.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        for attempt in range(2):
            if not self.path.is_file():
                with staged(folder) as staging:
                    export(build(), outputs, staging / self.path.name, precision)
            try:
                self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
                break
            except Exception:  # a damaged file in the cache: export again, once
                if attempt:
                    raise
                shutil.rmtree(folder, ignore_errors=True)
        os.utime(folder)  # last used
        prune(folder.parent, self.path.name)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        embeds = self.word_embeddings.rows(input_ids)
        return self.session.run(list(self.outputs), {"inputs_embeds": embeds, "attention_mask": attention_mask.astype(np.int64)})
