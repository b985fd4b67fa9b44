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
