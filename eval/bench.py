"""Benchmark answering on the bundled article as this CPU sees it, and as an AVX2-only CPU sees it.

    python -m eval.bench [--quick] [--json OUT.json] [--no-avx2-view] [--large] [--data DIR]

Times the real ``Assistant.ask`` (its own stage timings) over the questions of
eval/questions.jsonl after a warm-up pass: idle, then beside a busy-loop child process (a
CPU-bound neighbour). The floor is one plain fp32 pass of the e5 encoder over one 384-token
window, best of 1 and 2 threads, measured before and after the timed passes and the faster
taken (on a VM it drifts by ±20 % between runs); ``ratio`` = median answer time / floor. The same figures
are measured again in a child process with ``ONEDNN_MAX_CPU_ISA=AVX2`` and
``MKL_ENABLE_INSTRUCTIONS=AVX2``, so a developer on an AMX machine sees what an AVX2 user
sees. The cap reaches torch (oneDNN, MKL: the floor, and the bf16 reader) and the choice of
int8 graph (7-bit weights without VNNI), not ONNX Runtime's own kernels (the fp32 and int8
reader, the query), which have no such switch. The full run adds cold start (new process to first answer) and the peak RSS of a
fresh process answering every question; ``--large`` the same timings on a corpus about
100x the article (the CMRC 2018 dev paragraphs). ``--quick`` (about a minute): 40
questions, no cold start. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eval.paths import QUESTIONS, ROOT, add_data_arg
from qa.evaluation.runner import load_cases
from qa.evaluation.metrics import f1_score
from qa.evaluation.summary import percentile

AVX2_VIEW = {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
STAGES = ("retrieve", "read", "reread", "total")


def window_seconds(forward, tokenizer, text: str, repeats: int = 10) -> float:
    """Median time of ``forward(windows)`` over one full 384-token window of ``text``
    (``forward``: a reader's ``logits``, or :func:`plain_torch_pass`)."""
    from qa.reading.windows import MAX_LENGTH, encode_windows

    one = encode_windows(tokenizer, ["长安汽车新能源汽车年销量突破了多少？"], [text], MAX_LENGTH).select(slice(0, 1))
    assert one.attention_mask.sum() == MAX_LENGTH
    forward(one)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        forward(one)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def plain_torch_pass(model):
    """``forward(windows)``: the torch fp32 model as it comes, no graph, no tuning."""
    import torch

    def forward(windows) -> None:
        with torch.inference_mode():
            model(input_ids=torch.from_numpy(windows.input_ids), attention_mask=torch.from_numpy(windows.attention_mask))

    return forward


def floor_seconds() -> float:
    """One plain torch fp32 e5 pass over one full 384-token window, best of 1 and 2 threads,
    in a child process with spinning OpenMP threads (the fastest plain setting on an idle machine)."""
    code = (
        "import json, torch; from qa.encoders.reader_backends import READER_WEIGHTS, load_model; from qa.encoders.e5.model_files import load_word_embeddings\n"
        "from qa.encoders.e5.tokens import load_tokenizer; from qa.ingest.corpus import BUNDLED_ARTICLE; from qa.settings import defaults\n"
        "from eval.bench import plain_torch_pass, window_seconds\n"
        "cache = defaults().cache; model = load_model(cache, READER_WEIGHTS, load_word_embeddings(cache))\n"
        "forward, tokenizer, text, best = plain_torch_pass(model), load_tokenizer(cache), BUNDLED_ARTICLE.read_text(encoding='utf-8'), []\n"
        "for n in (1, 2):\n    torch.set_num_threads(n); best.append(window_seconds(forward, tokenizer, text))\n"
        "print(json.dumps(min(best)))"
    )
    env = {**os.environ, "OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "300000", "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True, env=env).stdout
    return float(out.strip().splitlines()[-1])


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot, from /proc/stat (0, 0 elsewhere)."""
    try:
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    except OSError:
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def steal_share(before: tuple[int, int]) -> float:
    """Share of CPU time the hypervisor took from this VM since ``before`` (timings with a
    high share say more about the host's other guests than about this code)."""
    steal, total = cpu_ticks()
    return round((steal - before[0]) / max(1, total - before[1]), 3)


def timed_pass(assistant, questions, reread: bool | None = None) -> list[dict[str, float]]:
    return [assistant.ask(c.question, reread=reread).timings for c in questions]


def stage_table(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        s: {"p50_ms": round(1000 * percentile([x[s] for x in samples], 0.5), 1), "p95_ms": round(1000 * percentile([x[s] for x in samples], 0.95), 1)}
        for s in STAGES
        if all(s in x for x in samples)
    }


def busy_neighbour() -> subprocess.Popen:
    """A CPU-bound process beside the timed one (a browser, a second worker, a training run)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def measure(quick: bool) -> dict:
    """Idle and noisy-neighbour timings, the floor and the article F1 in this process."""
    from qa.assistant import Assistant
    from qa.encoders.cpu import int8_dot_products, plan
    from qa.settings import apply_threads, defaults

    apply_threads(defaults())  # as the CLI and the app do, before torch loads
    chosen = plan()
    ticks = cpu_ticks()
    questions = load_cases(QUESTIONS)[: 40 if quick else None]
    assistant = Assistant()
    floors = [floor_seconds()]  # in a child: fp32, plain spinning threads; again at the end, as the VM's speed drifts
    timed_pass(assistant, questions[:10] if quick else questions)  # warm-up
    idle = timed_pass(assistant, questions)
    neighbour = busy_neighbour()
    try:
        time.sleep(0.5)
        noisy = timed_pass(assistant, questions)
    finally:
        neighbour.kill()
        neighbour.wait()
    once = timed_pass(assistant, questions, reread=False)
    floors.append(floor_seconds())
    floor = min(floors)
    answers = [assistant.ask(c.question).answer for c in questions]
    p50 = percentile([x["total"] for x in idle], 0.5)
    return {
        "cpu": chosen.model,
        "isa_flags": list(chosen.flags),
        "isa_cap": chosen.isa_cap,
        "precision": chosen.precision,
        "int8_dot_products": int8_dot_products(),
        "threads": chosen.threads,
        "questions": len(questions),
        "k": assistant.k,
        "article_f1": round(100 * statistics.fmean(f1_score(a, c.golds) for a, c in zip(answers, questions)), 2),
        "idle": stage_table(idle),
        "noisy_neighbour": stage_table(noisy),
        "read_once": stage_table(once),
        "floor_ms": round(1000 * floor, 1),
        "floor_runs_ms": [round(1000 * f, 1) for f in floors],
        "ratio_to_floor": round(p50 / floor, 2),
        "ratio_read_once_to_floor": round(percentile([x["total"] for x in once], 0.5) / floor, 2),
        "noisy_to_idle": round(percentile([x["total"] for x in noisy], 0.5) / p50, 2),
        "steal_share": steal_share(ticks),
    }


def fresh_process() -> tuple[float, float]:
    """In a new process (index cached): seconds from launch to the first answer, and the
    peak RSS in MB (VmHWM) after it has answered every question of the eval set."""
    code = (
        "import json, time; from qa import Assistant; from qa.evaluation.runner import load_cases; from qa.settings import apply_threads, defaults\n"
        "apply_threads(defaults()); a = Assistant(); a.ask('长安汽车新能源汽车年销量突破了多少？'); first = time.time()\n"
        f"[a.ask(c.question) for c in load_cases({str(QUESTIONS)!r})]\n"
        "hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
        "print(json.dumps([first, int(hwm.split()[1]) / 1024]))"
    )
    launched = time.time()
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True).stdout
    first, peak_mb = json.loads(out.strip().splitlines()[-1])
    return first - launched, peak_mb


def large_corpus(quick: bool, data: Path) -> dict:
    """Answer timings over the article plus the CMRC 2018 dev paragraphs (about 100x)."""
    from qa.assistant import Assistant
    from qa.ingest.corpus import BUNDLED_ARTICLE, Document
    from qa.encoders.embedder import Embedder
    from qa.reading.reader import Reader
    from qa.retrieval.retriever import Retriever
    from qa.ingest.squad_files import squad_paragraphs

    docs = [Document(BUNDLED_ARTICLE.name, BUNDLED_ARTICLE.read_text(encoding="utf-8"))]
    docs += [Document(f"cmrc-dev-{i}", p) for i, p in enumerate(squad_paragraphs(data / "dev" / "cmrc2018_dev.json"))]
    questions = load_cases(QUESTIONS)[: 40 if quick else None]
    with tempfile.TemporaryDirectory() as tmp:
        embedder = Embedder()
        reader = Reader(embedder=embedder)
        started = time.perf_counter()
        retriever = Retriever(documents=docs, index_dir=Path(tmp), embedder=embedder)
        build = time.perf_counter() - started
        assistant = Assistant(retriever, reader)
        timed_pass(assistant, questions[:10])
        samples = timed_pass(assistant, questions)
    return {"documents": len(docs), "characters": sum(len(d.text) for d in docs), "index_build_s": round(build, 1), "stages": stage_table(samples)}


def avx2_view(quick: bool) -> dict:
    """:func:`measure` in a child process that sees an AVX2-only CPU."""
    cmd = [sys.executable, "-m", "eval.bench", "--view-only"] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **AVX2_VIEW}).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_view(name: str, r: dict) -> None:
    print(f"\n== {name}: {r['cpu']}; flags {' '.join(r['isa_flags'])}" + (f", capped at {r['isa_cap']}" if r["isa_cap"] else "") + f"; precision {r['precision']}, {r['threads']} threads")
    if r["precision"] != "bf16" and r["isa_cap"]:
        int8 = f"int8 graph with {'8' if r['int8_dot_products'] else '7'}-bit weights as this view's CPU gets them; " if r["precision"] == "int8" else ""
        print(f"   {int8}ONNX Runtime's kernels ignore the cap, so the reader's and the query's speed here are the uncapped CPU's; the floor (torch) is capped")
    print(f"{'stage':<10}{'idle p50':>10}{'idle p95':>10}{'noisy p50':>10}{'noisy p95':>10}{'once p50':>11}")
    for s in STAGES:
        idle, noisy, once = r["idle"].get(s), r["noisy_neighbour"].get(s), r["read_once"].get(s)
        cells = [f"{x['p50_ms']:>10.1f}{x['p95_ms']:>10.1f}" if x else f"{'-':>10}{'-':>10}" for x in (idle, noisy)]
        print(f"{s:<10}{''.join(cells)}{once['p50_ms'] if once else '-':>11}")
    print(f"floor {r['floor_ms']} ms (of {', '.join(map(str, r['floor_runs_ms']))}); answer p50 / floor {r['ratio_to_floor']} (read once {r['ratio_read_once_to_floor']}); "
          f"noisy / idle {r['noisy_to_idle']}; article F1 {r['article_f1']} over {r['questions']} questions, k = {r['k']}; "
          f"CPU stolen by the hypervisor during the run {100 * r['steal_share']:.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 questions, no cold start (about a minute)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--no-avx2-view", action="store_true", help="skip the AVX2-only child process")
    parser.add_argument("--large", action="store_true", help="also time a corpus about 100x the article")
    parser.add_argument("--view-only", action="store_true", help=argparse.SUPPRESS)
    add_data_arg(parser)
    args = parser.parse_args()
    native = measure(args.quick)
    if args.view_only:
        print(json.dumps(native))
        return
    result = {"native": native}
    if not args.no_avx2_view:
        result["avx2"] = avx2_view(args.quick)
    if not args.quick:
        cold, peak = fresh_process()
        result["cold_start_s"], result["peak_rss_answering_mb"] = round(cold, 2), round(peak, 1)
    if args.large:
        result["large"] = large_corpus(args.quick, args.data)
    for name in ("native", "avx2"):
        if name in result:
            print_view({"native": "this CPU", "avx2": "AVX2-only view"}[name], result[name])
    for key in ("cold_start_s", "peak_rss_answering_mb"):
        if key in result:
            print(f"{key}: {result[key]}")
    if "large" in result:
        print(f"100x corpus: {result['large']}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
