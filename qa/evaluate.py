"""Batch evaluation: the article question set (``.jsonl``) or a SQuAD file (``--mode open|reader``).

Scores follow the official CMRC 2018 metric (:mod:`qa.metrics`); a question with no
gold answer scores 100 when the system abstains and 0 otherwise.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from qa.corpus import Document
from qa.metrics import exact_match, f1_score
from qa.squad import load_squad, squad_paragraphs


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    golds: list[str]
    context: str | None = None  # reader mode: the question's own paragraph


@dataclass
class Outcome:
    case: Case
    prediction: str
    confidence: float
    seconds: float
    passage: str = ""
    relevant_rank: int | None = None  # 1-based rank of the first retrieved chunk holding a gold answer


def load_cases(path: Path) -> list[Case]:
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [Case(str(r["id"]), r["question"], list(r["answers"])) for r in rows]
    return [Case(e.id, e.question, [a for a, _ in e.answers], e.context) for e in load_squad(path)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summarise(outcomes: list[Outcome], retrieval: bool) -> dict:
    """EM/F1 overall and split by answerability, abstention precision/recall, retrieval recall and MRR, latency."""

    def scores(group: list[Outcome]) -> dict:
        if not group:
            return {"n": 0, "em": None, "f1": None}
        return {
            "n": len(group),
            "em": round(100 * statistics.fmean(exact_match(o.prediction, o.case.golds) for o in group), 2),
            "f1": round(100 * statistics.fmean(f1_score(o.prediction, o.case.golds) for o in group), 2),
        }

    answerable = [o for o in outcomes if o.case.golds]
    unanswerable = [o for o in outcomes if not o.case.golds]
    abstained = [o for o in outcomes if not o.prediction]
    summary = {
        **scores(outcomes),
        "answerable": scores(answerable),
        "unanswerable": scores(unanswerable),
        "abstention": {
            "abstained": len(abstained),
            "precision": round(sum(1 for o in abstained if not o.case.golds) / len(abstained), 4) if abstained else None,
            "recall": round(sum(1 for o in unanswerable if not o.prediction) / len(unanswerable), 4) if unanswerable else None,
            "answerable_abstained_rate": round(sum(1 for o in answerable if not o.prediction) / len(answerable), 4) if answerable else None,
        },
        "latency_ms": {
            "p50": round(1000 * _percentile([o.seconds for o in outcomes], 0.5), 1),
            "p95": round(1000 * _percentile([o.seconds for o in outcomes], 0.95), 1),
        },
    }
    if retrieval and answerable:
        ranks = [o.relevant_rank for o in answerable]
        summary["retrieval"] = {
            **{f"recall@{k}": round(sum(1 for r in ranks if r and r <= k) / len(ranks), 4) for k in (1, 3, 5)},
            "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 4),
        }
    return summary


def load_reader(weights: Path | None, reread: bool = False):
    from qa.reader import READER_WEIGHTS, Reader

    return Reader(weights or READER_WEIGHTS, reread=reread)


def read_only(cases: list[Case], reader) -> list[Outcome]:
    """Reader mode: each question against its own paragraph; always answers."""
    outcomes = []
    for case in tqdm(cases, desc="reading", file=sys.stderr, mininterval=5):
        started = time.perf_counter()
        best = reader.run(case.question, [case.context]).best
        outcomes.append(Outcome(case, best.text if best else "", 1.0, time.perf_counter() - started, case.context))
    return outcomes


def answer_all(cases: list[Case], assistant, k: int | None) -> list[Outcome]:
    """Full pipeline: retrieve, read, answer or abstain; records the rank of the first relevant chunk."""
    assistant.ask(cases[0].question, k=k)  # warm-up, not timed
    outcomes = []
    for case in tqdm(cases, desc="answering", file=sys.stderr, mininterval=5):
        started = time.perf_counter()
        answer = assistant.ask(case.question, k=k)
        seconds = time.perf_counter() - started
        hits = assistant.retriever.search(case.question, k=5)
        rank = next((r for r, h in enumerate(hits, 1) if any(g in h.text for g in case.golds)), None)
        passage = next((h.text for h in answer.passages if answer.doc_id == h.doc_id and h.start <= (answer.start or -1) < h.end), hits[0].text if hits else "")
        outcomes.append(Outcome(case, answer.answer, answer.confidence, seconds, passage, rank))
    return outcomes


def evaluate_reader(path: str | Path, weights: Path | None = None, limit: int | None = None) -> dict:
    """Reader-only EM/F1 on a SQuAD file."""
    cases = load_cases(Path(path))[:limit]
    return summarise(read_only(cases, load_reader(weights)), retrieval=False)


def write_report(path: Path, outcomes: list[Outcome], summary: dict) -> None:
    """Markdown: the summary, then every wrong answer with question, gold, prediction, confidence, passage."""
    lines = ["# Evaluation report", "", "```json", json.dumps(summary, ensure_ascii=False, indent=2), "```", "", "## Wrong answers", ""]
    for o in outcomes:
        if exact_match(o.prediction, o.case.golds):
            continue
        lines += [
            f"### {o.case.id}: {o.case.question}",
            f"- gold: {' | '.join(o.case.golds) or '(not in the article: abstain)'}",
            f"- prediction: {o.prediction or '(abstained)'}",
            f"- confidence: {o.confidence:.3f}; F1 {100 * f1_score(o.prediction, o.case.golds):.1f}",
            f"- passage: {o.passage}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def print_table(summary: dict) -> None:
    rows = [("all", summary), ("answerable", summary["answerable"]), ("unanswerable", summary["unanswerable"])]
    print(f"{'':<13}{'n':>6}{'EM':>8}{'F1':>8}")
    for name, s in rows:
        if s["n"]:
            print(f"{name:<13}{s['n']:>6}{s['em']:>8.2f}{s['f1']:>8.2f}")
    a = summary["abstention"]
    if summary["unanswerable"]["n"]:
        print(f"abstention: precision {a['precision']}, recall {a['recall']}, answerable abstained {a['answerable_abstained_rate']}")
    if "retrieval" in summary:
        print("retrieval: " + ", ".join(f"{k} {v}" for k, v in summary["retrieval"].items()))
    print(f"latency per question: p50 {summary['latency_ms']['p50']} ms, p95 {summary['latency_ms']['p95']} ms")


def run_eval(args) -> None:
    """``qa eval``: dispatch on file type and mode, print the table, write the requested files."""
    from qa.assistant import Assistant

    cases = load_cases(args.file)[: args.limit]
    if not cases:
        raise ValueError(f"{args.file}: no questions")
    if args.file.suffix == ".json" and args.mode == "reader":
        outcomes = read_only(cases, load_reader(args.weights, args.reread))
        retrieval = False
    else:
        documents = None
        if args.file.suffix == ".json":
            documents = [Document(f"p{i}", text) for i, text in enumerate(squad_paragraphs(args.file))]
        kwargs = {"reader_weights": args.weights} if args.weights else {}
        outcomes = answer_all(cases, Assistant(args.corpus, documents=documents, reread=args.reread, **kwargs), args.k)
        retrieval = True
    summary = summarise(outcomes, retrieval)
    print_table(summary)
    if args.predictions:
        args.predictions.write_text(json.dumps({o.case.id: o.prediction for o in outcomes}, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.report:
        write_report(args.report, outcomes, summary)
