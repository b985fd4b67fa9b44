"""Store logic without a model: URIs, stitching documents back, keys, metadata, fusion."""

import pytest

from qa.ingest.chunks import split_documents
from qa.ingest.corpus import Document
from qa.retrieval.stores import open_store, store_kind
from qa.retrieval.stores.base import StoreError, StoreMeta, chunk_key, leads, stitch

META = StoreMeta("fake/e5", "0" * 64, 300, 0)


@pytest.mark.parametrize(
    ("uri", "kind"),
    [("archive/", "folder"), ("/data/news", "folder"), ("news.db", "milvus"), ("http://10.0.0.5:19530", "milvus"), ("https://x.zillizcloud.com", "milvus")],
)
def test_the_uri_chooses_the_store(uri, kind):
    assert store_kind(uri) == kind


@pytest.mark.parametrize("uri", ["", "  ", "s3://bucket/archive", "milvus://host:19530"])
def test_a_bad_uri_is_one_clear_error(uri):
    with pytest.raises(StoreError, match="folder|scheme"):
        store_kind(uri)


@pytest.mark.parametrize("overlap", [0, 40])
def test_a_document_is_stitched_back_from_its_chunks(overlap):
    text = "第一段。" * 90 + "\n\n  第二段，有空格。" * 30 + "\n最后一行。"
    chunks = split_documents([Document("d", text)], 120, overlap)
    rows = list(zip(chunks, leads(Document("d", text), chunks)))
    assert stitch(rows) == text.rstrip()
    assert stitch(list(reversed(rows))) == text.rstrip()  # order of rows does not matter


def test_chunk_keys_are_stable_63_bit_and_distinct():
    keys = [chunk_key("a" * 64, n) for n in range(1000)]
    assert keys == [chunk_key("a" * 64, n) for n in range(1000)]
    assert len(set(keys)) == 1000 and all(0 <= k < 2**63 for k in keys)


def test_a_store_of_another_model_is_refused_by_name():
    other = StoreMeta("intfloat/other", "1" * 64, 300, 0)
    with pytest.raises(StoreError, match="model_id 'intfloat/other'"):
        META.check(other, "the store")
    META.check(StoreMeta.from_json(META.to_json()), "the store")


def test_a_file_where_a_folder_store_should_be_is_refused(tmp_path):
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    with pytest.raises(StoreError, match="not a folder"):
        open_store(str(path), META)
    assert path.read_text() == "x"


def test_a_corrupt_folder_store_is_refused_and_kept(tmp_path):
    (tmp_path / "store.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a readable store"):
        open_store(str(tmp_path), META)
    assert (tmp_path / "store.sqlite").read_bytes() == b"this is not sqlite" * 100
