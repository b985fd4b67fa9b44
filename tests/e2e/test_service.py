"""Replicas as an operator meets them, over a ``milvus-lite server``: two started at once on an
empty server are up and not ready (saying why and how to build the store), become ready by
themselves once ``qa index`` fills it, and answer through the REST API; its error codes."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack

import pytest

from eval.load import ARTICLE, free_port, milvus_lite_server, started, wait_for
from tests.conftest import QUESTION, ROOT

pytestmark = pytest.mark.milvus


def call(url: str, body: dict | None = None, timeout: float = 60) -> tuple[int, dict, dict]:
    """Status, JSON body and headers of a GET (or a POST of ``body``)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)
    except (urllib.error.URLError, OSError) as error:  # the replica itself unreachable (not yet, or no more)
        return None, {"error": str(error)}, {}


def upload_file(url: str, question: str, name: str, data: bytes) -> tuple[int, dict]:
    """Status and JSON of a multipart POST of ``question`` and the file ``name``."""
    boundary = "qa-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"question\"\r\n\r\n{question}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def until(check, limit: float, what: str):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {limit:.0f} s")


@pytest.fixture(scope="module")
def empty_server_replicas(tmp_path_factory):
    pytest.importorskip("pymilvus")
    with ExitStack() as stack:
        uri = milvus_lite_server(stack, tmp_path_factory.mktemp("milvus"), limit=60)
        urls = []
        for _ in range(2):  # at the same moment, over an empty server
            port = free_port()
            proc = started(stack, [sys.executable, "app.py", "--port", str(port), "--store", uri])
            urls.append((proc, f"http://127.0.0.1:{port}"))
        for proc, url in urls:
            wait_for(proc, lambda url=url: urllib.request.urlopen(f"{url}/healthz", timeout=2).close(), f"replica {url}", 120)
        yield uri, [url for _, url in urls], [proc for proc, _ in urls]


def test_replicas_on_an_empty_store_wait_ready_and_become_ready_once_it_is_built(empty_server_replicas):
    uri, urls, procs = empty_server_replicas
    for url in urls:
        status, body, _ = until(lambda url=url: (s := call(f"{url}/readyz"))[1].get("reason") == "store_empty" and s, 120, "store_empty")
        assert status == 503 and body["ready"] is False and f"qa index --corpus FOLDER --store {uri}" in body["detail"]
        status, body, headers = call(f"{url}/v1/ask", {"question": QUESTION})
        assert status == 503 and body["error"] == "store_empty" and headers.get("retry-after") == "5"  # not an abstention
    assert all(p.poll() is None for p in procs)  # neither replica crashed
    built = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(ARTICLE), "--store", uri], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    for url in urls:
        until(lambda url=url: call(f"{url}/readyz")[0] == 200, 30, "ready without a restart")
        status, body, _ = call(f"{url}/v1/ask", {"question": QUESTION})
        assert status == 200 and body["answer"] == "100万辆" and body["doc_id"].endswith("article.txt")


def test_the_rest_api_answers_and_its_errors_are_json_with_a_status(empty_server_replicas):
    _, (url, _), _ = empty_server_replicas
    until(lambda: call(f"{url}/readyz")[0] == 200, 600, "ready")
    status, body, _ = call(f"{url}/v1/ask", {"question": "北碚区新建了多少座工厂？", "document": "北碚区今年新建了12座智能工厂。"})
    assert status == 200 and body["answer"] == "12座" and body["doc_id"] == "document"
    follow = call(f"{url}/v1/ask", {"question": "它的投资是多少？", "history": [["璧山的生物制造中试平台是什么时候开工的？", "2025年11月"]]})[1]
    assert follow["answer"] == "6.25亿元"
    assert call(f"{url}/v1/ask", {"question": "  "})[:2] == (400, {"error": "bad_question", "detail": "问题不能为空 (the question is empty)"})
    assert call(f"{url}/v1/ask", {"question": "问" * 2001})[0] == 413
    assert call(f"{url}/v1/ask", {"question": QUESTION, "document": "字" * 200_001})[0] == 413
    assert call(f"{url}/v1/ask", {"question": QUESTION, "k": 0})[0] == 422  # the schema's own check (k >= 1)
    assert call(f"{url}/healthz")[:2] == (200, {"alive": True})
    status, body = upload_file(f"{url}/v1/ask/file", QUESTION, "news.html", b"<html><body><article><p>" + "2025年12月20日，长安汽车宣布，旗下新能源汽车年销量突破100万辆。".encode() * 3 + b"</p></article></body></html>")
    assert status == 200 and body["answer"] == "100万辆" and body["doc_id"] == "news.html"
    status, body = upload_file(f"{url}/v1/ask/file", QUESTION, "lies.pdf", "不是PDF".encode())
    assert status == 400 and body["error"] == "bad_document" and "named .pdf" in body["detail"]
    assert "/v1/ask" in call(f"{url}/openapi.json")[1]["paths"]


def test_a_store_killed_during_asks_fails_them_fast_and_they_resume_after_its_restart(tmp_path):
    """The Milvus server dies while askers keep asking: each call ends within seconds with 200 or
    503 (never hangs, never another error), the replica stays up and not ready; restarted on the
    same data, answers resume within 15 s, and a text uploaded before the kill is still answered."""
    import socket
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    pytest.importorskip("pymilvus")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).with_name("milvus-lite")), "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path / "data")]

    def serve() -> subprocess.Popen:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(server, lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(), "milvus-lite server", 60)
        return server

    with ExitStack() as stack:
        server = serve()
        stack.callback(lambda: server.kill())
        subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(ARTICLE), "--store", uri], cwd=ROOT, check=True, capture_output=True, timeout=600)
        app_port = free_port()
        app = started(stack, [sys.executable, "app.py", "--port", str(app_port), "--store", uri])
        url = f"http://127.0.0.1:{app_port}"
        until(lambda: call(f"{url}/readyz")[0] == 200 if app.poll() is None else None, 240, "ready")
        upload = {"question": "北碚区新建了多少座工厂？", "document": "北碚区今年新建了12座智能工厂。"}
        assert call(f"{url}/v1/ask", upload)[1]["answer"] == "12座"

        def ask(_):
            started_at = time.monotonic()
            status, body, _ = call(f"{url}/v1/ask", {"question": QUESTION}, timeout=30)
            return status, body.get("answer") or body.get("error"), time.monotonic() - started_at

        with ThreadPoolExecutor(8) as pool:
            server.kill()
            server.wait()
            down = list(pool.map(ask, range(16)))
            assert {s for s, _, _ in down} <= {200, 503} and 503 in {s for s, _, _ in down} and max(t for *_, t in down) < 10, down
            assert call(f"{url}/readyz")[0] == 503 and app.poll() is None
            server = serve()
            restarted = time.monotonic()
            until(lambda: all(s == 200 and a == "100万辆" for s, a, _ in pool.map(ask, range(8))), 15, "answers again")
        assert time.monotonic() - restarted < 15
        assert call(f"{url}/readyz")[0] == 200 and call(f"{url}/v1/ask", upload)[1]["answer"] == "12座"
