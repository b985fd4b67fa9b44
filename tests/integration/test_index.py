import json

import pytest

from qa.ingest.corpus import Document
from qa.retrieval.cached_index import load_or_build

DOCS = [Document("a.txt", "重庆新增5家产业创新综合体。全市总数达18家。\n\n长安汽车年销量突破100万辆。")]


@pytest.fixture
def built(tmp_path, embedder):
    index = load_or_build(DOCS, 20, 0, embedder, tmp_path)
    assert index.rebuilt
    return tmp_path


def test_second_load_uses_the_saved_index(built, embedder):
    assert not load_or_build(DOCS, 20, 0, embedder, built).rebuilt


@pytest.mark.parametrize("change", ["corpus", "chunk_size", "overlap", "model"])
def test_manifest_change_triggers_a_rebuild(built, embedder, change):
    docs, size, overlap = DOCS, 20, 0
    if change == "corpus":
        docs = [Document("a.txt", DOCS[0].text + "新句子。")]
    elif change == "chunk_size":
        size = 30
    elif change == "overlap":
        overlap = 5
    else:
        manifest = json.loads((built / "manifest.json").read_text())
        manifest["model_hash"] = "0" * 64
        (built / "manifest.json").write_text(json.dumps(manifest))
    index = load_or_build(docs, size, overlap, embedder, built)
    assert index.rebuilt
    assert not load_or_build(docs, size, overlap, embedder, built).rebuilt


@pytest.mark.parametrize("name,damage", [
    ("vectors.faiss", lambda b: b[: len(b) // 2]),
    ("vectors.faiss", lambda b: b"garbage" * 10),
    ("chunks.jsonl", lambda b: b[:-10]),
    ("manifest.json", lambda b: b"{not json"),
])
def test_truncated_or_corrupt_files_are_rebuilt(built, embedder, name, damage):
    path = built / name
    path.write_bytes(damage(path.read_bytes()))
    index = load_or_build(DOCS, 20, 0, embedder, built)
    assert index.rebuilt and index.faiss_index.ntotal == len(index.chunks)
    assert not load_or_build(DOCS, 20, 0, embedder, built).rebuilt


def test_missing_file_is_rebuilt(built, embedder):
    (built / "vectors.faiss").unlink()
    assert load_or_build(DOCS, 20, 0, embedder, built).rebuilt
