"""Settings resolved once: defaults, then the environment, then flags; import qa changes no environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.settings import apply_threads, resolve, with_flags
from tests.conftest import ROOT

XEON = "model name\t: Intel(R) Xeon(R)\nflags\t\t: avx2 avx512f avx512_vnni\n"
SAPPHIRE = "model name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: avx2 avx512f amx_tile amx_bf16\n"


def test_defaults_then_environment_then_flags():
    plain = resolve(env={}, cpuinfo=XEON)
    assert (plain.precision, plain.k, plain.decisive, plain.reread) == ("fp32", 3, 0.6, True)
    assert plain.cache == Path.home() / ".cache" / "qa" and plain.threads == len(os.sched_getaffinity(0))
    assert plain.sources["precision"].startswith("default: no native bf16")
    env = {"QA_CACHE": "/tmp/c", "QA_K": "5", "QA_DECISIVE": "off", "QA_REREAD": "0", "QA_THREADS": "1", "QA_PRECISION": "int8"}
    from_env = resolve(env=env, cpuinfo=XEON)
    assert (from_env.cache, from_env.k, from_env.decisive, from_env.reread, from_env.threads, from_env.precision) == (Path("/tmp/c"), 5, None, False, 1, "int8")
    assert from_env.sources["k"] == "$QA_K" and from_env.sources["precision"] == "$QA_PRECISION"
    flagged = resolve(env=env, cpuinfo=XEON, k=2, precision="fp32", reread=None)
    assert (flagged.k, flagged.precision, flagged.reread) == (2, "fp32", False)  # None: not given
    assert flagged.sources["k"] == "flag" and flagged.sources["reread"] == "$QA_REREAD"
    assert with_flags(plain, k=7, reread=None).k == 7 and with_flags(plain, k=7).sources["k"] == "flag"
    assert any(line.startswith("k = 7 (flag)") for line in with_flags(plain, k=7).lines())


def test_amx_gets_bf16_by_default():
    assert resolve(env={}, cpuinfo=SAPPHIRE).precision == "bf16"


@pytest.mark.parametrize(("variable", "value", "needle"), [
    ("QA_PRECISION", "fp8", "fp32, bf16, int8"), ("QA_K", "0", "QA_K must be a whole number"),
    ("QA_REREAD", "maybe", "QA_REREAD must be 1 or 0"), ("QA_DECISIVE", "high", "QA_DECISIVE"),
])
def test_bad_environment_values_are_clear_errors(variable, value, needle):
    with pytest.raises(ValueError, match=needle):
        resolve(env={variable: value}, cpuinfo=XEON)


def test_unknown_flag_is_refused():
    with pytest.raises(TypeError, match="unknown settings: colour"):
        resolve(env={}, cpuinfo=XEON, colour="red")


def test_apply_threads_keeps_what_the_environment_says(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    apply_threads(resolve(env={"QA_THREADS": "1"}, cpuinfo=XEON))
    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_importing_qa_leaves_the_environment_as_it_was():
    code = (
        "import os, json; before = dict(os.environ)\n"
        "import qa, qa.assistant, qa.reading.reader, qa.retrieval.retriever, qa.frontends.cli, qa.evaluation.runner, qa.training.train\n"
        "print(json.dumps(dict(os.environ) == before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "true"


def test_the_tunables_are_settings_and_k_zero_is_an_error():
    plain = resolve(env={}, cpuinfo=XEON)
    assert (plain.top_n, plain.settled_gap, plain.fusion_lead, plain.no_passage_below, plain.sentence_answer_chars) == (5, 2.0, 0.3, 0.5, 150)
    lines = with_flags(plain, fusion_lead=0.5).lines()
    assert "fusion_lead = 0.5 (flag)" in lines and "settled_gap = 2.0 (default)" in lines
    for bad in ({"k": 0}, {"top_n": 0}, {"k": -1}):
        with pytest.raises(ValueError, match="must be a whole number >= 1"):
            resolve(env={}, cpuinfo=XEON, **bad)
