"""eval.load end to end, small: two app replicas over one milvus-lite server, a few users."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.milvus
def test_the_load_test_spreads_users_over_replicas_sharing_one_store():
    pytest.importorskip("pymilvus")
    out = subprocess.run([sys.executable, "-m", "eval.load", "--users", "6", "--replicas", "2", "--sequential", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["store"] == "milvus-lite server" and result["replicas"] == 2
    assert result["concurrent"]["errors"] == 0 and result["concurrent"]["n"] == 6
    assert result["concurrent"]["right"] == result["right_one_by_one"] >= 4  # as many right as one by one
    shared = result["shared_upload"]  # indexed by the first replica, found by the second in the store
    assert shared["first_replica"]["answer"] == shared["second_replica"]["answer"] == "1234千瓦"


def test_the_load_test_refuses_an_unbounded_run():
    out = subprocess.run([sys.executable, "-m", "eval.load", "--users", "5000"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--users must be 1-200" in out.stderr
