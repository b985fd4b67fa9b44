"""Every writable store keeps the same contract: a FAISS folder, Milvus Lite in this process,
and ``milvus-lite server`` over TCP (started on a free loopback port). Vectors come from a fake
embedder, so these tests load no model; the real-model parity is in ``test_archive.py``."""

import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from eval.load import free_port, milvus_lite_server
from qa.retrieval.archive_sync import archive_ids, store_meta, sync
from qa.retrieval.stores import open_store
from qa.retrieval.stores.base import StoreError
from tests.fakes import FakeEmbedder

DOCS = {
    "a.txt": "青石镇第1234号水电站装机容量为2234千瓦，站长王1234号。\n\n青石镇第888号水电站的站长是王888号。",
    "b.txt": "长安汽车新能源汽车年销量突破100万辆。\n重庆的生物制造中试平台投资6.25亿元。",
    "sub/c.md": "璧山区建设了生物制造中试平台，总投资6.25亿元，已服务企业30余家。",
}


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """``milvus-lite server`` on a free loopback port, for the module; its URI."""
    pytest.importorskip("pymilvus")
    with ExitStack() as stack:
        yield milvus_lite_server(stack, tmp_path_factory.mktemp("milvus"), limit=60)


@pytest.fixture(params=["folder", pytest.param("lite", marks=pytest.mark.milvus), pytest.param("server", marks=pytest.mark.milvus)])
def uri(request, tmp_path):
    if request.param == "folder":
        return str(tmp_path / "faiss")
    if request.param == "lite":
        pytest.importorskip("pymilvus")
        return str(tmp_path / "archive.db")
    return request.getfixturevalue("milvus_server") + f"#{tmp_path.name}"


def opened(uri: str, embedder=None):
    """The store at ``uri`` (a server URI's ``#name`` is its collection, so each test has its own)."""
    from qa.retrieval.stores.milvus import MilvusStore

    meta = store_meta(embedder or FakeEmbedder())
    if "#" in uri:
        base, collection = uri.split("#")
        return MilvusStore(base, meta, collection=collection.replace("-", "_"))
    return open_store(uri, meta)


def corpus(tmp_path: Path, docs: dict[str, str]) -> Path:
    folder = tmp_path / "corpus"
    for name, text in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_built_store_searches_and_gives_documents_back(uri, tmp_path):
    folder = corpus(tmp_path, DOCS)
    store = opened(uri)
    report = sync(store, archive_ids([folder]), FakeEmbedder(), progress=False)
    assert (report.added, report.kept, report.removed) == (3, 0, 0)
    assert sorted(store.documents()) == ["a.txt", "b.txt", "sub/c.md"]
    assert store.document_text("b.txt") == DOCS["b.txt"]
    ranking = store.keyword("青石镇第888号水电站的站长是谁？", 5)
    top, _ = ranking[0]
    assert top.doc_id == "a.txt" and "888" in top.text
    scores = [s for _, s in ranking]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0  # best first, higher is better, in every store
    assert DOCS[top.doc_id][top.start : top.end] == top.text
    nearest, score = store.dense(FakeEmbedder().query(DOCS["sub/c.md"]), 3)[0]
    assert nearest.doc_id == "sub/c.md" and score == pytest.approx(1.0, abs=1e-4)
    assert store.chunk_at("b.txt", DOCS["b.txt"].index("6.25")).doc_id == "b.txt"
    assert store.find("总投资6.25亿元") == ("sub/c.md", DOCS["sub/c.md"].index("总投资6.25亿元"))
    assert store.find("不在任何文档里") is None and store.keyword("的", 5) == []
    store.close()


def test_a_text_with_like_wildcards_is_found_as_it_is(uri, tmp_path):
    docs = {f"{i:02d}.txt": f"第{i}份：代号A{i}B，增长1{i}0。" for i in range(12)} | {"z.txt": "代号A_B，增长12%。"}
    store = opened(uri)
    sync(store, archive_ids([corpus(tmp_path, docs)]), FakeEmbedder(), progress=False)
    assert store.find("代号A_B") == ("z.txt", 0)  # _ is no wildcard: not 代号A0B
    assert store.find("增长12%") == ("z.txt", docs["z.txt"].index("增长12%"))  # nor is %: not 增长120
    assert store.find("增长1_0") is None
    store.close()


def test_the_same_document_written_twice_is_kept_once(uri):
    """Two replicas may index one upload at the same moment: the second write replaces the first."""
    from qa.retrieval.archive_sync import keyed_chunks
    from qa.ingest.corpus import Document

    document = Document("b.txt", DOCS["b.txt"])
    chunks = keyed_chunks(document, 40, 0)
    entry = (document, chunks, FakeEmbedder().passages([c.text for c in chunks]))
    store = opened(uri)
    store.add([entry])
    store.add([entry])
    store.commit()
    assert len(store) == len(chunks) > 1 and store.documents()["b.txt"].chunks == len(chunks)
    assert [c.chunk_id for c, _ in store.keyword("长安汽车销量", 10)].count(chunks[0].chunk_id) == 1
    store.close()


def test_a_second_build_embeds_only_what_changed(uri, tmp_path):
    folder = corpus(tmp_path, DOCS)
    store = opened(uri)
    sync(store, archive_ids([folder]), FakeEmbedder(), progress=False)
    (folder / "b.txt").write_text(DOCS["b.txt"] + "\n新增一句：产值增长了12%。", encoding="utf-8")
    (folder / "a.txt").unlink()
    (folder / "d.txt").write_text("新文件：两江新区的新项目。", encoding="utf-8")
    again = FakeEmbedder()
    report = sync(store, archive_ids([folder]), again, progress=False)
    assert (report.added, report.removed, report.kept) == (2, 1, 1)
    assert all("青石镇" not in t for t in again.embedded) and any("两江新区" in t for t in again.embedded)
    assert sorted(store.documents()) == ["b.txt", "d.txt", "sub/c.md"]
    assert "产值增长了12%" in store.document_text("b.txt")
    assert all(c.doc_id != "a.txt" for c, _ in store.keyword("水电站 站长", 10))
    store.close()


def test_an_interrupted_build_resumes_where_it_stopped(uri, tmp_path, monkeypatch):
    import qa.retrieval.archive_sync

    monkeypatch.setattr(qa.retrieval.archive_sync, "BATCH_CHUNKS", 1)  # one document a batch
    folder = corpus(tmp_path, DOCS)
    store = opened(uri)
    with pytest.raises(KeyboardInterrupt):
        sync(store, archive_ids([folder]), FakeEmbedder(fail_after=1), progress=False)
    assert len(store.documents()) == 1
    store.close()
    store = opened(uri)  # a new process, later
    rest = FakeEmbedder()
    report = sync(store, archive_ids([folder]), rest, progress=False)
    assert (report.added, report.kept) == (2, 1)
    assert sorted(store.documents()) == ["a.txt", "b.txt", "sub/c.md"]
    store.close()


def test_a_store_built_with_another_model_is_refused_and_kept(uri, tmp_path):
    store = opened(uri)
    sync(store, archive_ids([corpus(tmp_path, DOCS)]), FakeEmbedder(), progress=False)
    store.close()
    other = FakeEmbedder()
    other.model_id = "intfloat/multilingual-e5-large"
    with pytest.raises(StoreError, match="other settings: model_id"):
        opened(uri, other)
    store = opened(uri)
    assert len(store.documents()) == 3
    store.close()


@pytest.mark.milvus
def test_an_unreachable_server_is_one_clear_error():
    pytest.importorskip("pymilvus")
    started = time.monotonic()
    with pytest.raises(StoreError, match="cannot open the Milvus store"):
        open_store(f"http://127.0.0.1:{free_port()}", store_meta(FakeEmbedder()))
    assert time.monotonic() - started < 30


@pytest.mark.milvus
def test_a_lite_file_in_a_missing_folder_is_one_clear_error(tmp_path):
    pytest.importorskip("pymilvus")
    with pytest.raises(StoreError, match="folder does not exist"):
        open_store(str(tmp_path / "missing" / "x.db"), store_meta(FakeEmbedder()))


@pytest.mark.milvus
def test_an_upload_indexed_by_one_replica_is_found_by_another(milvus_server, embedder, assistant, monkeypatch, tmp_path):
    """Two app replicas over one Milvus server: the text one of them indexed is answered by the
    other from the store, nothing embedded again; a long text is shared once its dense side is built."""
    import qa.retrieval.uploads
    from eval.identifier import identifier_text
    from qa.assistant import Assistant
    from qa.ingest.corpus import Document
    from qa.retrieval.stores.milvus import MilvusStore
    from qa.retrieval.uploads import Indexer

    monkeypatch.setattr(embedder, "cache", tmp_path)  # no index of these texts in the cache
    embedded = []
    passages = embedder.passages
    monkeypatch.setattr(embedder, "passages", lambda texts, **kw: embedded.append(len(texts)) or passages(texts, **kw))
    shared = lambda: MilvusStore(milvus_server, store_meta(embedder), collection=f"qa_default_{tmp_path.name}".replace("-", "_"))  # noqa: E731
    first, second = Indexer(embedder, shared=shared()), Indexer(embedder, shared=shared())
    short = Document("dams.txt", identifier_text(30))
    _, pending = first.retriever([short])
    assert pending is None and len(embedded) == 1
    found, pending = second.retriever([short])
    assert pending is None and len(embedded) == 1 and isinstance(found.store, MilvusStore)
    assert found.documents == [short]  # the chat shows the whole text, as on the replica that indexed it
    assert Assistant(found, assistant.reader).ask("青石镇第23号水电站的装机容量是多少？").answer == "1023千瓦"

    monkeypatch.setattr(qa.retrieval.uploads, "KEYWORDS_FIRST_CHUNKS", 4)
    long = Document("more-dams.txt", identifier_text(120))
    keywords, pending = first.retriever([long])
    assert keywords.keywords_only and pending is not None
    pending.result(timeout=300)
    embedded.clear()
    found, pending = second.retriever([long])
    assert pending is None and not embedded and isinstance(found.store, MilvusStore)
    assert Assistant(found, assistant.reader).ask("第88号水电站的站长是谁？").answer == "王88号"


@pytest.mark.milvus
def test_replicas_opening_a_fresh_server_at_once_all_open_it(milvus_server):
    """Rolling out pods at once: each opens the same missing collection; one creates it and writes
    its meta, the others wait for that meta or open the one that won; none is refused."""
    from concurrent.futures import ThreadPoolExecutor

    from qa.retrieval.stores.milvus import MilvusStore

    meta = store_meta(FakeEmbedder())
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: MilvusStore(milvus_server, meta, collection="at_once"), range(4)))
    assert [len(s) for s in stores] == [0, 0, 0, 0]
    other = store_meta(FakeEmbedder())
    with pytest.raises(StoreError, match="other settings"):
        MilvusStore(milvus_server, type(other)(other.model_id, "another-hash", other.chunk_size, other.chunk_overlap), collection="at_once")


@pytest.mark.milvus
def test_uploads_past_the_budget_are_dropped_least_recently_used_first(tmp_path):
    from qa.retrieval.stores.milvus import MilvusStore
    from qa.retrieval.upload_budget import PREFIX, prune, touch

    pytest.importorskip("pymilvus")
    with ExitStack() as stack:
        server = milvus_lite_server(stack, tmp_path, limit=60)  # its own: no other test's uploads
        meta = store_meta(FakeEmbedder())
        stores = {name: MilvusStore(server, meta, collection=f"{PREFIX}budget_{name}") for name in "abc"}
        for name in "abca":  # a used again last: b is the least recently used
            touch(stores[name])
            time.sleep(0.01)
        assert prune(stores["a"], keep=2) == [f"{PREFIX}budget_b"]
        client = stores["a"].client
        assert not client.has_collection(f"{PREFIX}budget_b") and client.has_collection(f"{PREFIX}budget_a") and client.has_collection(f"{PREFIX}budget_c")
        assert prune(stores["a"], keep=2) == []
