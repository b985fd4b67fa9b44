"""Cold start: a new process from import to its first answer, and a replica from launch to ready.

    python -m eval.cold_start [--runs 8] [--baseline DIR]

Each run is a fresh process over the bundled article, with the index, the ONNX graphs and
jieba's cache already made (one untimed run first): the library (``from qa import Assistant``,
``Assistant().ask(…)``, timed inside the child from before its import), and ``app.py`` (from
its launch to ``/readyz`` 200, and to the answer of its first ``POST /v1/ask``). With
``--baseline DIR`` (another checkout: ``git worktree add DIR REV``) the same runs of that code
alternate with these, on the same machine in the same run, so that the two are compared under
the same noise. Prints the medians and ranges, and the CPU. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from eval.load import free_port, started, wait_for
from eval.paths import ROOT
from qa.encoders.cpu import cpu_flags

QUESTION = "长安汽车新能源汽车年销量突破了多少？"
LIBRARY = (
    "import time; started = time.perf_counter()\n"
    "from qa import Assistant\n"
    f"answer = Assistant().ask({QUESTION!r})\n"
    "print(time.perf_counter() - started, answer.answer)"
)


def library_seconds(root: Path) -> float:
    """Seconds from the import of ``root``'s ``qa`` to its first answer, in a new process."""
    out = subprocess.run([sys.executable, "-c", LIBRARY], cwd=root, check=True, capture_output=True, text=True, timeout=300).stdout
    return float(out.split()[0])


def replica_seconds(root: Path, limit: float = 120) -> tuple[float, float]:
    """Seconds from launching ``root``'s ``app.py`` to ``/readyz`` 200, and to its first answer."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        launched = time.monotonic()
        proc = started(stack, [sys.executable, "app.py", "--port", str(port)], cwd=root)
        wait_for(proc, lambda: urllib.request.urlopen(f"{url}/readyz", timeout=2).close(), f"{root}/app.py ready", limit, every=0.05)  # 503 while loading
        ready = time.monotonic() - launched
        request = urllib.request.Request(f"{url}/v1/ask", data=json.dumps({"question": QUESTION}).encode(), headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            json.loads(response.read())
        return ready, time.monotonic() - launched


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8, help="timed runs of each kind (and of each checkout)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose runs alternate with these")
    args = parser.parse_args()
    roots = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    for root in roots.values():  # untimed: makes the caches
        library_seconds(root)
    times = {name: {"library": [], "ready": [], "first answer": []} for name in roots}
    for _ in range(args.runs):
        for name, root in roots.items():
            times[name]["library"].append(library_seconds(root))
            ready, answered = replica_seconds(root)
            times[name]["ready"].append(ready)
            times[name]["first answer"].append(answered)
    model, flags = cpu_flags()
    isa = [f for f in ("avx2", "avx512f", "avx512_vnni", "amx_bf16") if f in flags]
    print(f"{model} ({' '.join(isa) or 'no AVX2'}); {args.runs} runs each, alternated")
    for name, kinds in times.items():
        print(f"{name:8s} " + "; ".join(f"{kind} {spread(values)}" for kind, values in kinds.items()))
    if args.baseline:
        ratios = {kind: statistics.median(times["this"][kind]) / statistics.median(times["baseline"][kind]) for kind in times["this"]}
        print("ratio    " + "; ".join(f"{kind} {ratio:.2f}" for kind, ratio in ratios.items()))


if __name__ == "__main__":
    main()
