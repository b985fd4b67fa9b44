"""Benchmark every stage of answering on the bundled article (2-core CPU), and a 100× corpus.

    python eval/bench.py [--json OUT.json] [--skip-large]

Per stage, median and p95 over all questions of eval/questions.jsonl after a warm-up
pass: question embedding, dense search, BM25, fusion, reader forward, span decoding,
re-reading the top spans' sentences (``--reread`` only), and the whole ``Assistant.ask``,
without and with ``--reread`` (``total``, ``total_reread``). The floor is one reader
forward pass over a single 384-token window; ``ratio`` = median total / floor (also for
``total_reread``); ``read_300_chars`` is the reader alone on one question and a
300-character context. Also: cold start (new process to first answer, index cached),
peak RSS of a fresh process answering every question, index build time, and the same for
a corpus about 100× the article (the CMRC 2018 dev paragraphs when ../shared is present).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.retrieval import load_questions  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.corpus import Document  # noqa: E402
from qa.metrics import f1_score  # noqa: E402
from qa.reader import MAX_LENGTH, decode, encode_windows  # noqa: E402
from qa.retriever import Retriever  # noqa: E402

CMRC_DEV = ROOT.parent / "shared" / "qa-data" / "dev" / "cmrc2018_dev.json"
STAGES = ("embed", "dense", "bm25", "fusion", "tokenize", "forward", "decode", "reread", "total", "total_reread")


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def stage_times(assistant: Assistant, question: str) -> dict[str, float]:
    """Run the assistant's pipeline stage by stage, timing each."""
    r, reader, k = assistant.retriever, assistant.reader, assistant.k
    t = {}
    vector, t["embed"] = timed(r.embedder.query, question)
    dense, t["dense"] = timed(r.index.search, vector, 50)
    bm25, t["bm25"] = timed(r.bm25_ranking, question)
    hits, t["fusion"] = timed(r.fuse, {"dense": dense, "bm25": bm25}, k)
    contexts = [h.text for h in hits]
    enc, t["tokenize"] = timed(encode_windows, reader.tokenizer, [question] * len(contexts), contexts)
    (start, end), t["forward"] = timed(reader.logits, enc)
    reading, t["decode"] = timed(lambda: decode(enc, start, end, contexts, question=question))
    _, t["reread"] = timed(reader.read_sentences, question, contexts, reading)
    _, t["total"] = timed(assistant.ask, question)
    _, t["total_reread"] = timed(ask_rereading, assistant, question)
    return t


def ask_rereading(assistant: Assistant, question: str):
    """``Assistant.ask`` with the reader's sentence re-reading switched on (``--reread``)."""
    assistant.reader.reread = True
    try:
        return assistant.ask(question)
    finally:
        assistant.reader.reread = False


def floor_seconds(assistant: Assistant, repeats: int = 30) -> float:
    """Median time of one reader forward pass over one full 384-token window."""
    reader = assistant.reader
    text = assistant.retriever.documents[0].text
    enc = encode_windows(reader.tokenizer, ["长安汽车新能源汽车年销量突破了多少？"], [text], MAX_LENGTH)
    one = {key: enc[key][:1] for key in ("input_ids", "attention_mask")}
    assert one["attention_mask"].sum() == MAX_LENGTH
    reader.logits(one)
    return statistics.median(timed(reader.logits, one)[1] for _ in range(repeats))


def context_read_seconds(assistant: Assistant, questions: list[dict], chars: int = 300) -> float:
    """Median time of ``Reader.run`` for one question against one ``chars``-character
    slice of the article that holds its gold answer (tokenise + forward + decode)."""
    text = assistant.retriever.documents[0].text
    times = []
    for q in questions:
        if not q["answers"]:
            continue
        at = text.index(q["answers"][0])
        lo = max(0, min(at - chars // 2, len(text) - chars))
        times.append(timed(assistant.reader.run, q["question"], [text[lo : lo + chars]])[1])
    return statistics.median(times)


def summarise(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {s: {"p50_ms": round(1000 * float(np.median([x[s] for x in samples])), 2),
                "p95_ms": round(1000 * float(np.percentile([x[s] for x in samples], 95)), 2)} for s in STAGES}


def fresh_process() -> tuple[float, float]:
    """In a new process (index cached): seconds from launch to the first answer, and the
    peak RSS in MB after it has answered every question of the eval set (VmHWM: a child's
    ``ru_maxrss`` would start from the parent's RSS at fork)."""
    code = (
        "import json, time; from qa import Assistant; from eval.retrieval import load_questions\n"
        "a = Assistant(); a.ask('长安汽车新能源汽车年销量突破了多少？'); first = time.time()\n"
        "[a.ask(q['question']) for q in load_questions()]\n"
        "hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
        "print(json.dumps([first, int(hwm.split()[1]) / 1024]))"
    )
    launched = time.time()
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True).stdout
    first, peak_mb = json.loads(out.strip().splitlines()[-1])
    return first - launched, peak_mb


def large_corpus(article: Document) -> list[Document]:
    """The article plus ~100x its size of other text: CMRC dev paragraphs, or number-shifted copies."""
    if CMRC_DEV.exists():
        from qa.squad import squad_paragraphs

        return [article] + [Document(f"cmrc-dev-{i}", p) for i, p in enumerate(squad_paragraphs(CMRC_DEV))]
    shifted = lambda n: "".join(str((int(c) + n) % 10) if c.isdigit() else c for c in article.text)  # noqa: E731
    return [article] + [Document(f"copy-{n}", shifted(n)) for n in range(1, 100)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--skip-large", action="store_true", help="skip the 100x corpus")
    args = parser.parse_args()
    questions = load_questions()
    assistant = Assistant()
    for q in questions:  # warm-up pass
        stage_times(assistant, q["question"])
    samples = [stage_times(assistant, q["question"]) for q in questions]
    answers = [assistant.ask(q["question"]).answer for q in questions]
    f1 = 100 * statistics.fmean(f1_score(a, q["answers"]) for a, q in zip(answers, questions))
    reread_answers = [ask_rereading(assistant, q["question"]).answer for q in questions]
    f1_reread = 100 * statistics.fmean(f1_score(a, q["answers"]) for a, q in zip(reread_answers, questions))
    floor = floor_seconds(assistant)
    with tempfile.TemporaryDirectory() as tmp:
        _, build = timed(lambda: Retriever(index_dir=Path(tmp), embedder=assistant.retriever.embedder))
    cold, answering_peak_mb = fresh_process()
    result = {
        "machine": "2-core x86_64 CPU",
        "questions": len(questions),
        "k": assistant.k,
        "article_f1": round(f1, 2),
        "article_f1_reread": round(f1_reread, 2),
        "stages": summarise(samples),
        "floor_ms": round(1000 * floor, 2),
        "read_300_chars_ms": round(1000 * context_read_seconds(assistant, questions), 2),
        "ratio_total_to_floor": round(float(np.median([x["total"] for x in samples])) / floor, 2),
        "ratio_reread_to_floor": round(float(np.median([x["total_reread"] for x in samples])) / floor, 2),
        "cold_start_s": round(cold, 2),
        "index_build_s": round(build, 2),
        "peak_rss_answering_mb": round(answering_peak_mb, 1),
        "peak_rss_bench_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if not args.skip_large:
        docs = large_corpus(assistant.retriever.documents[0])
        with tempfile.TemporaryDirectory() as tmp:
            retriever, build = timed(lambda: Retriever(documents=docs, index_dir=Path(tmp), embedder=assistant.retriever.embedder))
            assistant.retriever = retriever
            for q in questions[:20]:
                stage_times(assistant, q["question"])
            big = [stage_times(assistant, q["question"]) for q in questions]
            big_answers = [assistant.ask(q["question"]).answer for q in questions]
        result["large"] = {
            "documents": len(docs),
            "characters": sum(len(d.text) for d in docs),
            "chunks": len(retriever.chunks),
            "index_build_s": round(build, 2),
            "stages": summarise(big),
            "article_f1": round(100 * statistics.fmean(f1_score(a, q["answers"]) for a, q in zip(big_answers, questions)), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    print(f"{'stage':<10}{'p50 ms':>10}{'p95 ms':>10}" + (f"{'100x p50':>10}{'100x p95':>10}" if "large" in result else ""))
    for s in STAGES:
        row = result["stages"][s]
        line = f"{s:<10}{row['p50_ms']:>10.2f}{row['p95_ms']:>10.2f}"
        if "large" in result:
            big_row = result["large"]["stages"][s]
            line += f"{big_row['p50_ms']:>10.2f}{big_row['p95_ms']:>10.2f}"
        print(line)
    for key in ("k", "article_f1", "article_f1_reread", "floor_ms", "read_300_chars_ms", "ratio_total_to_floor", "ratio_reread_to_floor", "cold_start_s", "index_build_s", "peak_rss_answering_mb", "peak_rss_bench_mb"):
        print(f"{key}: {result[key]}")
    if "large" in result:
        large = result["large"]
        print(f"100x corpus: {large['documents']} docs, {large['characters']} chars, {large['chunks']} chunks, "
              f"index build {large['index_build_s']} s, peak RSS {large['peak_rss_mb']} MB, article F1 {large['article_f1']}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
