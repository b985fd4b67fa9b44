"""The chat page's wiring, without a server: the events that ask wait in one queue, those that
may index a new text in another, and every reader call holds the one model lock (shared with
the REST API), so indexing never holds the questions' queue."""

import threading

from qa.frontends.app.layout import INDEX, MODEL, build_app


def test_asking_and_indexing_wait_in_their_own_queues_and_share_the_model_lock(assistant):
    lock = threading.Lock()
    app = build_app(assistant, 10_000, model_lock=lock)
    queues = {f.name: f.concurrency_id for f in app.fns.values() if f.fn is not None}
    assert {name: queues[name] for name in ("respond", "ask", "use_document", "answer")} == {"respond": MODEL, "ask": MODEL, "use_document": INDEX, "answer": INDEX}
    assert sum(f.name == "respond" for f in app.fns.values()) == 2 and app._queue.default_concurrency_limit == 1  # one at a time in each
    assert {f.fn.__self__.model_lock for f in app.fns.values() if f.name in ("respond", "ask", "answer")} == {lock}


def test_a_page_over_another_corpus_is_neutral_and_does_not_carry_the_corpus(assistant):
    import json

    from qa.assistant import Assistant
    from qa.ingest.corpus import Document
    from qa.retrieval.retriever import Retriever

    texts = [Document(f"/srv/data/news/{i}.txt", f"第{i}篇：青石镇第{i}号水电站的站长是王{i}号。") for i in range(5)]
    other = Assistant(Retriever(documents=texts, embedder=assistant.retriever.embedder), assistant.reader, settings=assistant.settings)
    page = json.dumps(build_app(other, 10_000).get_config_file(), ensure_ascii=False, default=str)
    assert "中文资料问答" in page and "重庆“双链融合”文章问答" not in page and "示例问题" not in page
    assert "水电站的站长" not in page and "/srv/data" not in page and "5 篇文本" in page  # neither the texts nor a server path
    article = json.dumps(build_app(assistant, 10_000).get_config_file(), ensure_ascii=False, default=str)
    assert "重庆“双链融合”文章问答" in article and "示例问题" in article and "长安汽车宣布" in article  # the article's page as it was
