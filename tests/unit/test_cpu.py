"""Precision and threads chosen from the CPU's instruction sets (faked flags), and an answer on an AVX2-only view."""

import os

import pytest

from qa.encoders.cpu import cpu_flags, int8_dot_products, isa_cap, native_bf16, plan

AMX = "model name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_tile amx_bf16 amx_int8\n"
AVX512 = "model name\t: Intel(R) Xeon(R) Processor @ 2.50GHz\nflags\t\t: fpu avx2 avx512f avx512_vnni\n"
EPYC = "model name\t: AMD EPYC 7B13\nflags\t\t: fpu sse avx avx2 fma\n"
ZEN4 = "model name\t: AMD EPYC 9B14\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"


def test_flags_are_read_from_cpuinfo():
    model, flags = cpu_flags(AMX)
    assert model == "Intel(R) Xeon(R) Platinum 8480+" and {"amx_bf16", "amx_tile", "avx2"} <= flags
    assert cpu_flags("") == ("unknown CPU", frozenset())


@pytest.mark.parametrize(("cpuinfo", "env", "precision"), [
    (AMX, {}, "bf16"),
    (AMX, {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}, "fp32"),  # what an AVX2 user sees
    (AMX, {"MKL_ENABLE_INSTRUCTIONS": "AVX512"}, "fp32"),
    (AMX, {"ONEDNN_MAX_CPU_ISA": "AVX10_1_512_AMX"}, "bf16"),
    (AVX512, {}, "fp32"),
    (EPYC, {}, "fp32"),
    (ZEN4, {}, "fp32"),  # avx512_bf16 without AMX tiles: not a bf16 matrix unit
    (EPYC, {"QA_PRECISION": "bf16"}, "bf16"),
    (AMX, {"QA_PRECISION": "FP32"}, "fp32"),
    (EPYC, {"QA_PRECISION": "int8"}, "int8"),
])
def test_precision_follows_native_bf16_and_the_override(cpuinfo, env, precision):
    assert plan(env=env, cpuinfo=cpuinfo).precision == precision


def test_bad_override_is_a_clear_error():
    with pytest.raises(ValueError, match="QA_PRECISION must be one of"):
        plan(env={"QA_PRECISION": "fp8"}, cpuinfo=EPYC)


def test_isa_cap_takes_the_lower_of_onednn_and_mkl():
    assert isa_cap({}) is None
    assert isa_cap({"ONEDNN_MAX_CPU_ISA": "avx512_core_bf16", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}) == "AVX2"
    assert not native_bf16(cpu_flags(AMX)[1], "AVX512_CORE_BF16")


@pytest.mark.parametrize(("cpuinfo", "cap", "vnni"), [
    (AVX512, None, True),
    (AVX512, "AVX2", False),  # an AVX2 user's int8 graph keeps 7-bit weights
    (AVX512, "AVX512_CORE", False),
    (EPYC, None, False),
    ("flags\t\t: avx2 avx_vnni\n", None, True),
    ("flags\t\t: avx2 avx_vnni\n", "AVX2", False),
])
def test_int8_dot_products_follow_flags_and_cap(cpuinfo, cap, vnni):
    assert int8_dot_products(cpu_flags(cpuinfo)[1], cap) is vnni


def test_threads_are_the_cores_this_process_may_use():
    assert plan(env={}, cpuinfo=EPYC).threads == len(os.sched_getaffinity(0))
