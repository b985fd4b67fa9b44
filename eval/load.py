"""Many chat users at once, on loopback: latency, errors, right answers and throughput.

    python -m eval.load --users 50 [--replicas R] [--sequential 20]
    python -m eval.load --mixed [--users 8] [--rounds 6]

It starts R app processes on free loopback ports (with R > 1, over one ``milvus-lite server``
holding the article's index, built once with ``qa index --store``; each replica gets
``QA_THREADS`` = cores / R), asks ``--sequential`` questions one by one through ``/ask`` (the
single-user rate), then lets ``--users`` gradio_client sessions (connected first, untimed) ask
one question each, all at once, spread over the replicas. The questions are the article set's answerable ones, in turn;
an answer is right when it holds a gold answer. With R > 1, a text sent with ``/answer`` to
one replica is then sent to another, which finds it in the store by its hash. Bounded: every call times out after
``--timeout`` seconds, and the processes are stopped at the end, whatever happened.

``--mixed``: one replica; ``--users`` REST clients ask (``POST /v1/ask``) ``--rounds`` questions
each, first alone, then while one client sends 10 distinct 100,000-character documents at once
(a 429 is retried after its ``Retry-After``): the askers' p50/p95 with and without the flood,
their errors, and the flood's 429s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from eval.paths import QUESTIONS, ROOT
from qa.ingest.corpus import BUNDLED_ARTICLE as ARTICLE
from qa.encoders.cpu import usable_cores
from qa.evaluation.runner import load_cases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def started(stack: ExitStack, command: list[str], env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    """A child process (run in ``cwd``), stopped when ``stack`` closes."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    stack.callback(stop)
    return proc


def wait_for(proc: subprocess.Popen, check, what: str, limit: float = 300, every: float = 0.5) -> None:
    """Call ``check`` every ``every`` seconds until it raises no ``OSError`` (an HTTP error status
    is one); fail when ``proc`` exits or ``limit`` seconds pass."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited (code {proc.returncode})")
        try:
            check()
            return
        except OSError:
            time.sleep(every)
    raise RuntimeError(f"{what} did not start within {limit:.0f} s")


def milvus_lite_server(stack: ExitStack, folder: Path, limit: float = 300) -> str:
    """A ``milvus-lite server`` on a free loopback port keeping its data in ``folder``, stopped
    when ``stack`` closes (the tests' server too); its URI once it listens."""
    port = free_port()
    server = started(stack, [str(Path(sys.executable).with_name("milvus-lite")), "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(folder)])
    wait_for(server, lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(), "milvus-lite server", limit)
    return f"http://127.0.0.1:{port}"


def article_server(stack: ExitStack, folder: Path) -> str:
    """A ``milvus-lite server`` holding the article's index (``qa index --store``); its URI."""
    uri = milvus_lite_server(stack, folder)
    subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(ARTICLE), "--store", uri], cwd=ROOT, check=True, capture_output=True)
    return uri


def replicas(stack: ExitStack, count: int, store: str | None) -> list[str]:
    """``count`` app processes, each with its share of the cores; their URLs once all serve."""
    threads = max(1, usable_cores() // count)
    urls = []
    for _ in range(count):
        port = free_port()
        env = {**os.environ, "QA_THREADS": str(threads)}
        proc = started(stack, [sys.executable, "app.py", "--port", str(port), *(["--store", store] if store else [])], env)
        urls.append((proc, f"http://127.0.0.1:{port}/"))
    for proc, url in urls:
        wait_for(proc, lambda url=url: urllib.request.urlopen(url, timeout=2).close(), f"app on {url}")
    return [url for _, url in urls]


def client(url: str, timeout: float):
    """A user's session: a gradio_client on ``url`` (its connection set up before any timing)."""
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": timeout})


def asked(session, question: str) -> tuple[str | None, float]:
    """The answer to ``question`` through the session's ``/ask`` (``None``: an error) and the seconds it took."""
    started_at = time.perf_counter()
    try:
        answer = session.predict(question, api_name="/ask")
    except Exception:  # noqa: BLE001 - an error is a measured outcome
        answer = None
    return answer, time.perf_counter() - started_at


def shared_upload(urls: list[str], timeout: float) -> dict:
    """A text sent with ``/answer`` to the first replica, then to the second: the second finds
    it in the shared store by its hash (seconds of each call, and both answers)."""
    from eval.identifier import identifier_text

    text, question = identifier_text(300), "青石镇第234号水电站的装机容量是多少？"
    result = {}
    for name, url in zip(("first_replica", "second_replica"), urls):
        session = client(url, timeout)
        started_at = time.perf_counter()
        answer = session.predict(question, text, [], api_name="/answer")
        result[name] = {"seconds": round(time.perf_counter() - started_at, 2), "answer": answer["answer"]}
    return result


def summary(results: list[tuple[str | None, float]], golds: list[list[str]], seconds: float) -> dict:
    latency = np.array([s for _, s in results])
    return {
        "n": len(results),
        "errors": sum(a is None for a, _ in results),
        "right": sum(a is not None and any(g in a for g in gold) for (a, _), gold in zip(results, golds)),
        "p50_s": round(float(np.percentile(latency, 50)), 2),
        "p95_s": round(float(np.percentile(latency, 95)), 2),
        "max_s": round(float(latency.max()), 2),
        "wall_s": round(seconds, 1),
        "questions_per_s": round(len(results) / seconds, 2),
    }


def rest(url: str, body: dict, timeout: float) -> tuple[int | None, dict, float]:
    """Status, JSON and seconds of ``POST url`` (``None``: no response)."""
    request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(), headers={"content-type": "application/json"})
    started_at = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), time.perf_counter() - started_at
    except urllib.error.HTTPError as error:
        return error.code, {"retry_after": error.headers.get("Retry-After")}, time.perf_counter() - started_at
    except OSError:
        return None, {}, time.perf_counter() - started_at


def mixed(url: str, users: int, rounds: int, timeout: float) -> dict:
    """The askers' latencies alone and under a flood of uploads from one client (module doc)."""
    cases = [c for c in load_cases(QUESTIONS) if c.golds]
    article = ARTICLE.read_text(encoding="utf-8")

    def asker(i: int) -> list[tuple[int | None, float]]:
        return [(s, d) for s, _, d in (rest(f"{url}v1/ask", {"question": cases[(i * rounds + r) % len(cases)].question}, timeout) for r in range(rounds))]

    def phase(flood: bool) -> dict:
        with ThreadPoolExecutor(users + 10) as pool:
            askers = [pool.submit(asker, i) for i in range(users)]
            uploads = [pool.submit(upload, n) for n in range(10)] if flood else []
            calls = [c for a in askers for c in a.result()]
            refused = sum(u.result() for u in uploads)
        latency = np.array([d for _, d in calls])
        return {"asks": len(calls), "errors": sum(s != 200 for s, _ in calls), "p50_s": round(float(np.percentile(latency, 50)), 3),
                "p95_s": round(float(np.percentile(latency, 95)), 3), "uploads_429": refused}

    def upload(n: int) -> int:
        """Send document ``n`` until it is taken; how many times it was refused with 429."""
        text = (f"第{n}份材料。" + article * 30)[:100_000]
        refused = 0
        while True:
            status, body, _ = rest(f"{url}v1/ask", {"question": "长安汽车新能源汽车年销量突破了多少？", "document": text}, timeout)
            if status != 429:
                return refused
            refused += 1
            time.sleep(float(body.get("retry_after") or 5))

    for case in cases[:3]:  # warm: not timed
        rest(f"{url}v1/ask", {"question": case.question}, timeout)
    return {"users": users, "rounds": rounds, "alone": phase(False), "flood": phase(True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent sessions (at most 200)")
    parser.add_argument("--replicas", type=int, default=1, help="app processes (above 1: over one milvus-lite server)")
    parser.add_argument("--sequential", type=int, default=20, help="questions asked one by one first, for the single-user rate")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a call may take")
    parser.add_argument("--mixed", action="store_true", help="REST askers alone, then while one client floods uploads")
    parser.add_argument("--rounds", type=int, default=6, help="with --mixed: questions each asker asks per phase")
    args = parser.parse_args()
    if args.mixed:
        with ExitStack() as stack:
            (url,) = replicas(stack, 1, None)
            result = {"cpu": _cpu(), **mixed(url, min(args.users, 32), args.rounds, args.timeout)}
        result["p95_flood_over_alone"] = round(result["flood"]["p95_s"] / result["alone"]["p95_s"], 2)
        print(json.dumps(result, ensure_ascii=False))
        return
    if not (1 <= args.users <= 200 and 1 <= args.replicas <= 8):
        parser.error("--users must be 1-200 and --replicas 1-8")
    cases = [c for c in load_cases(QUESTIONS) if c.golds]
    questions = [cases[i % len(cases)] for i in range(args.users)]
    try:
        with ExitStack() as stack:
            store = article_server(stack, Path(stack.enter_context(tempfile.TemporaryDirectory()))) if args.replicas > 1 else None
            urls = replicas(stack, args.replicas, store)
            one_by_one = questions[: args.sequential]
            alone_session = client(urls[0], args.timeout)
            t = time.perf_counter()
            sequential = [asked(alone_session, c.question) for c in one_by_one]
            sequential_s = time.perf_counter() - t
            alone = [asked(alone_session, c.question)[0] for c in questions]  # the same questions one by one: the right-answer baseline
            with ThreadPoolExecutor(16) as pool:
                sessions = list(pool.map(lambda i: client(urls[i % len(urls)], args.timeout), range(args.users)))
            t = time.perf_counter()
            with ThreadPoolExecutor(args.users) as pool:
                together = list(pool.map(asked, sessions, [c.question for c in questions]))
            together_s = time.perf_counter() - t
            shared = shared_upload(urls, args.timeout) if store else None
    except RuntimeError as error:  # a server or an app that did not start
        parser.exit(2, f"eval.load: {error}\n")
    golds = [c.golds for c in questions]
    result = {
        "cpu": _cpu(),
        "users": args.users,
        "replicas": args.replicas,
        "store": "milvus-lite server" if store else "in process",
        "sequential": summary(sequential, [c.golds for c in one_by_one], sequential_s),
        "right_one_by_one": sum(a is not None and any(g in a for g in gold) for a, gold in zip(alone, golds)),
        "concurrent": summary(together, golds, together_s),
    }
    result["throughput_vs_sequential"] = round(result["concurrent"]["questions_per_s"] / result["sequential"]["questions_per_s"], 2)
    if shared:
        result["shared_upload"] = shared
    print(json.dumps(result, ensure_ascii=False))


def _cpu() -> str:
    from qa.encoders.cpu import cpu_flags

    return cpu_flags()[0]


if __name__ == "__main__":
    main()
