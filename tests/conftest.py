import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "长安汽车新能源汽车年销量突破了多少？"


@pytest.fixture(scope="session")
def embedder():
    from qa.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def retriever(embedder):
    from qa.retriever import Retriever

    return Retriever(embedder=embedder)


@pytest.fixture(scope="session")
def assistant():
    from qa.assistant import Assistant

    return Assistant()


@pytest.fixture(scope="session")
def article() -> str:
    from qa.corpus import BUNDLED_ARTICLE

    return BUNDLED_ARTICLE.read_text(encoding="utf-8")


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python -m qa ARGS`` and capture its output."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
