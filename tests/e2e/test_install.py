"""A non-editable install (the wheel) answers from any directory and writes nothing into its own folder."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import QUESTION, ROOT


def snapshot(folder):
    return {p: p.stat().st_mtime for p in folder.rglob("*")}


@pytest.mark.slow
def test_wheel_install_answers_and_writes_nothing_inside_the_package(tmp_path):
    wheels, site, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("*.whl")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    assert (site / "qa" / "weights" / "reader.safetensors").is_file() and (site / "qa" / "weights" / "calibration.json").is_file()
    before = snapshot(site)
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONIOENCODING": "utf-8"}  # the usual $QA_CACHE: e5 is rebuilt there once
    code = "import json, qa, qa.retrieval.cached_index; from qa import Assistant; a = Assistant().ask(%r); print(json.dumps([qa.__file__, a.answer, a.start]))" % QUESTION
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr

    where, answer, start = json.loads(out.stdout.strip().splitlines()[-1])
    assert where.startswith(str(site)) and (answer, start) == ("100万辆", 2688)
    assert snapshot(site) == before  # no index, cache or bytecode written into the installed package
    assert not list(elsewhere.iterdir())
