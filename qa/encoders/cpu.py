"""What this CPU does natively, and the precision and thread count chosen for it.

Chosen by instruction set, never by brand: bf16 only where the CPU has bf16 matrix units
(AMX) that oneDNN may use; everywhere else bf16 is emulated and slower than fp32. A cap
set for oneDNN or MKL (``ONEDNN_MAX_CPU_ISA=AVX2``, ``MKL_ENABLE_INSTRUCTIONS=AVX2``, as a
developer sets to see what an AVX2-only CPU sees) is honoured like a missing flag.
``QA_PRECISION`` overrides the choice. Threads: the cores this process may run on.
fp32 and int8 run as ONNX Runtime graphs, bf16 in torch (:mod:`qa.reading.reader`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PRECISIONS = ("fp32", "bf16", "int8")  # int8 by request only: it loses accuracy
# oneDNN's ISA names in rising order; a cap below AVX10_1_512_AMX rules out AMX
ONEDNN_ISAS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16", "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16")
REPORTED_FLAGS = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


@dataclass(frozen=True)
class CpuPlan:
    """The CPU's relevant flags (after any ISA cap) and what was chosen for it."""

    model: str
    flags: tuple[str, ...]
    isa_cap: str | None
    precision: str
    threads: int
    reason: str


def cpu_flags(cpuinfo: str | None = None) -> tuple[str, frozenset[str]]:
    """Model name and feature flags from ``/proc/cpuinfo`` (empty where there is none)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(errors="replace") if path.is_file() else ""
    model, flags = "unknown CPU", frozenset()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
    return model, flags


def isa_cap(env: dict[str, str] | None = None) -> str | None:
    """The instruction-set cap set for oneDNN/MKL, as a oneDNN ISA name (``None``: no cap)."""
    env = os.environ if env is None else env
    onednn = env.get("ONEDNN_MAX_CPU_ISA", env.get("DNNL_MAX_CPU_ISA", "")).upper()
    mkl = env.get("MKL_ENABLE_INSTRUCTIONS", "").upper()
    caps = [c for c in (onednn, {"AVX2": "AVX2", "AVX512": "AVX512_CORE", "AVX": "AVX", "SSE4_2": "SSE41"}.get(mkl, "")) if c in ONEDNN_ISAS]
    return min(caps, key=ONEDNN_ISAS.index) if caps else None


def native_bf16(flags: frozenset[str] | None = None, cap: str | None = None, env: dict[str, str] | None = None) -> bool:
    """True where bf16 matrix multiplication runs on AMX tiles that oneDNN may use."""
    if flags is None:
        flags = cpu_flags()[1]
        cap = isa_cap(env)
    has_amx = {"amx_tile", "amx_bf16"} <= flags
    return has_amx and (cap is None or ONEDNN_ISAS.index(cap) >= ONEDNN_ISAS.index("AVX10_1_512_AMX"))


def int8_dot_products(flags: frozenset[str] | None = None, cap: str | None = None, env: dict[str, str] | None = None) -> bool:
    """True where 8-bit dot-product instructions (AVX-512 VNNI, AVX-VNNI) exist and no cap rules them out."""
    if flags is None:
        flags = cpu_flags()[1]
        cap = isa_cap(env)

    def allowed(isa: str) -> bool:
        return cap is None or ONEDNN_ISAS.index(cap) >= ONEDNN_ISAS.index(isa)

    return ("avx512_vnni" in flags and allowed("AVX512_CORE_VNNI")) or ("avx_vnni" in flags and allowed("AVX2_VNNI"))


def usable_cores() -> int:
    """Cores this process may run on (affinity, cgroup-pinned sets included)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan(env: dict[str, str] | None = None, cpuinfo: str | None = None) -> CpuPlan:
    """The precision and threads for this CPU: ``QA_PRECISION`` if set, else bf16 on AMX, else fp32."""
    env = os.environ if env is None else env
    model, flags = cpu_flags(cpuinfo)
    cap = isa_cap(env)
    forced = env.get("QA_PRECISION", "").strip().lower()
    if forced:
        if forced not in PRECISIONS:
            raise ValueError(f"QA_PRECISION must be one of {', '.join(PRECISIONS)}, not {forced!r}")
        precision, reason = forced, "QA_PRECISION"
    elif native_bf16(flags, cap):
        precision, reason = "bf16", "AMX bf16 tiles"
    else:
        precision, reason = "fp32", "no native bf16 matrix units" + (f" (ISA capped at {cap})" if cap else "")
    shown = tuple(f for f in REPORTED_FLAGS if f in flags)
    return CpuPlan(model, shown, cap, precision, usable_cores(), reason)

