"""The chat page's wiring, without a server: every event that runs the model waits in one queue."""

from qa.frontends.app.layout import MODEL, build_app


def test_every_event_that_runs_the_model_waits_in_one_queue(assistant):
    app = build_app(assistant, 10_000)
    queues = {f.name: f.concurrency_id for f in app.fns.values() if f.fn is not None}
    model = {name: queue for name, queue in queues.items() if name in ("respond", "use_document", "ask", "answer")}
    assert sorted(model) == ["answer", "ask", "respond", "use_document"]
    assert set(model.values()) == {MODEL}  # the chat's Enter and its button, a new text, /ask and /answer
    assert sum(f.name == "respond" for f in app.fns.values()) == 2 and app._queue.default_concurrency_limit == 1  # one at a time
