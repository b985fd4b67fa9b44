"""Batch evaluation, the one core behind ``qa eval`` and the scripts in ``eval/``.

Files: the article question set (``.jsonl``) or a SQuAD v1.1/v2.0 file, read question by
own paragraph (``reader`` mode, many questions' windows per forward pass) or open-domain
over all its paragraphs (``open``). Scores follow the official CMRC 2018 metric
(:mod:`qa.metrics`); a question with no gold answer scores 100 when the system abstains.

Each outcome keeps the system's best admissible answer and its confidence; the abstention
threshold is applied when scoring, so one pass gives the scores at the shipped threshold
and at the best one (the SQuAD 2.0 convention). Reader mode on a file without unanswerable
questions (CMRC, DRCD) always answers, as those benchmarks are scored.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.metrics import exact_match, f1_score
from qa.squad import load_squad, squad_paragraphs

READER_BATCH = 32  # questions per batched reading in reader mode


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    golds: list[str]
    context: str | None = None  # reader mode: the question's own paragraph


@dataclass
class Outcome:
    case: Case
    answer: str  # the best admissible answer, before the confidence threshold
    confidence: float
    seconds: float
    passage: str = ""
    relevant_rank: int | None = None  # 1-based rank of the first retrieved chunk holding a gold answer
    signals: object = None  # qa.confidence.Signals of the answer (None when no span was admissible)

    def prediction(self, threshold: float) -> str:
        return self.answer if self.confidence >= threshold else ""


def load_cases(path: Path) -> list[Case]:
    """Questions of a ``.jsonl`` set (``id, question, answers``) or a SQuAD ``.json`` file."""
    path = Path(path)
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [Case(str(r["id"]), r["question"], list(r["answers"])) for r in rows]
    return [Case(e.id, e.question, [a for a, _ in e.answers], e.context) for e in load_squad(path)]


def percentile(values, q: float) -> float:
    """The ``q``-quantile (0..1) of ``values``, linear interpolation; 0 for none."""
    return float(np.percentile(values, 100 * q)) if len(values) else 0.0


def first_relevant_rank(texts: list[str], golds: list[str]) -> int | None:
    """1-based rank of the first text that holds a gold answer string."""
    return next((r for r, text in enumerate(texts, 1) if any(g in text for g in golds)), None)


def recall_mrr(ranks: list[int | None], ks=(1, 3, 5)) -> dict[str, float]:
    """Recall@k and MRR over the first-relevant ranks of the answerable questions."""
    return {
        **{f"recall@{k}": round(sum(1 for r in ranks if r and r <= k) / len(ranks), 4) for k in ks},
        "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 4),
    }


def auc(positive: np.ndarray, negative: np.ndarray) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not len(positive) or not len(negative):
        return None
    scores = np.r_[positive, negative]
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def scores_at(outcomes: list[Outcome], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-question EM and F1 when abstaining below ``threshold``."""
    em = np.array([exact_match(o.prediction(threshold), o.case.golds) for o in outcomes])
    f1 = np.array([f1_score(o.prediction(threshold), o.case.golds) for o in outcomes])
    return em, f1


def best_threshold(outcomes: list[Outcome]) -> tuple[float, float, float]:
    """(threshold, EM, F1) of the threshold with the best overall F1 (SQuAD 2.0 convention)."""
    conf = np.array([o.confidence for o in outcomes])
    answerable = np.array([bool(o.case.golds) for o in outcomes])
    answered_em, answered_f1 = scores_at(outcomes, 0.0)
    best = (0.0, -1.0, -1.0)
    for t in np.unique(np.r_[0.0, conf, np.nextafter(conf.max(), 2)]):
        keep = conf >= t
        f1 = np.where(keep, answered_f1, ~answerable).mean()
        if f1 > best[2]:
            best = (float(t), float(np.where(keep, answered_em, ~answerable).mean()), float(f1))
    return best[0], round(100 * best[1], 2), round(100 * best[2], 2)


def summarise(outcomes: list[Outcome], threshold: float, retrieval: bool, seconds: float | None = None) -> dict:
    """EM/F1 overall and by answerability at ``threshold``, abstention rates, no-answer
    metrics (where the set has unanswerable questions), retrieval recall/MRR, speed."""
    em, f1 = scores_at(outcomes, threshold)
    answerable = np.array([bool(o.case.golds) for o in outcomes])
    abstained = np.array([not o.prediction(threshold) for o in outcomes])

    def group(mask: np.ndarray) -> dict:
        n = int(mask.sum())
        return {"n": n, "em": round(100 * em[mask].mean(), 2) if n else None, "f1": round(100 * f1[mask].mean(), 2) if n else None}

    summary = {
        **group(np.ones(len(outcomes), dtype=bool)),
        "threshold": threshold,
        "answerable": group(answerable),
        "unanswerable": group(~answerable),
        "abstention": {
            "abstained": int(abstained.sum()),
            "precision": round(float((~answerable[abstained]).mean()), 4) if abstained.any() else None,
            "recall": round(float(abstained[~answerable].mean()), 4) if (~answerable).any() else None,
            "answerable_abstained_rate": round(float(abstained[answerable].mean()), 4) if answerable.any() else None,
        },
        "latency_ms": {
            "p50": round(1000 * percentile([o.seconds for o in outcomes], 0.5), 1),
            "p95": round(1000 * percentile([o.seconds for o in outcomes], 0.95), 1),
        },
    }
    if (~answerable).any():
        conf = np.array([o.confidence for o in outcomes])
        t, best_em, best_f1 = best_threshold(outcomes)
        summary["no_answer"] = {
            "has_ans_em": summary["answerable"]["em"],
            "has_ans_f1": summary["answerable"]["f1"],
            "no_ans_accuracy": round(100 * float(abstained[~answerable].mean()), 2),
            "best_threshold": round(t, 4),
            "best_em": best_em,
            "best_f1": best_f1,
            "auc": round(auc(1 - conf[~answerable], 1 - conf[answerable]), 4),  # no-answer score = 1 - confidence
        }
    if seconds:
        summary["questions_per_s"] = round(len(outcomes) / seconds, 2)
    if retrieval and answerable.any():
        summary["retrieval"] = recall_mrr([o.relevant_rank for o, a in zip(outcomes, answerable) if a])
    return summary


def read_only(cases: list[Case], reader, calibration, reread: bool | None = None, batch: int = READER_BATCH) -> list[Outcome]:
    """Reader mode: each question against its own paragraph, ``batch`` questions per reading.
    Answers are chosen as the assistant chooses them (admissible form, calibrated confidence
    with the support counted in the paragraph); ``seconds`` is the batch's time per question."""
    from qa.answer_form import admits

    outcomes = []
    with tqdm(total=len(cases), desc="reading", file=sys.stderr, mininterval=5) as bar:
        for lo in range(0, len(cases), batch):
            part = cases[lo : lo + batch]
            started = time.perf_counter()
            readings = reader.run_batch([(c.question, [c.context]) for c in part], reread=reread)
            each = (time.perf_counter() - started) / len(part)
            for case, reading in zip(part, readings):
                best = next((s for s in reading.spans if admits(case.question, s.text)), None)
                signals, confidence = calibration.judge(case.question, best.score, case.context) if best else (None, 0.0)
                outcomes.append(Outcome(case, best.text if best else "", confidence, each, case.context, signals=signals))
            bar.update(len(part))
    return outcomes


def answer_all(cases: list[Case], assistant, k: int | None, reread: bool | None = None) -> list[Outcome]:
    """Full pipeline: retrieve, read, answer (never abstaining on confidence: the threshold is
    applied when scoring); records the rank of the first relevant chunk among the top 5."""
    saved, assistant.abstain_below = assistant.abstain_below, 0.0
    try:
        assistant.ask(cases[0].question, k=k, reread=reread)  # warm-up, not timed
        outcomes = []
        for case in tqdm(cases, desc="answering", file=sys.stderr, mininterval=5):
            answer = assistant.ask(case.question, k=k, reread=reread)
            hits = assistant.retriever.search(case.question, k=5)
            rank = first_relevant_rank([h.text for h in hits], case.golds)
            passage = next((h.text for h in answer.passages if answer.doc_id == h.doc_id and h.start <= (answer.start or -1) < h.end), hits[0].text if hits else "")
            outcomes.append(Outcome(case, answer.answer, answer.confidence, answer.timings["total"], passage, rank, answer.signals))
    finally:
        assistant.abstain_below = saved
    return outcomes


def evaluate(
    path: Path,
    mode: str = "open",
    corpus: list[str] | None = None,
    k: int | None = None,
    weights: Path | None = None,
    reread: bool | None = None,
    precision: str | None = None,
    limit: int | None = None,
    decisive: float | None | str = "default",
) -> tuple[dict, list[Outcome]]:
    """Score the system on ``path``; returns the summary and the outcomes. ``decisive``
    overrides the assistant's early stop (a confidence, or ``None`` to always read all chunks)."""
    from qa.assistant import Assistant
    from qa.corpus import Document
    from qa.reader import READER_WEIGHTS

    path = Path(path)
    cases = load_cases(path)[:limit]
    if not cases:
        raise ValueError(f"{path}: no questions")
    started = time.perf_counter()
    if path.suffix == ".json" and mode == "reader":
        from qa.confidence import Calibration
        from qa.reader import Reader

        calibration = Calibration.load()
        outcomes = read_only(cases, Reader(weights or READER_WEIGHTS, precision=precision), calibration, reread)
        threshold = calibration.abstain_below if any(not c.golds for c in cases) else 0.0
        return summarise(outcomes, threshold, False, time.perf_counter() - started), outcomes
    documents = [Document(f"p{i}", text) for i, text in enumerate(squad_paragraphs(path))] if path.suffix == ".json" else None
    settings = {} if decisive == "default" else {"decisive": decisive}
    assistant = Assistant.from_corpus(corpus, documents=documents, reader_weights=weights or READER_WEIGHTS, precision=precision, **settings)
    started = time.perf_counter()
    outcomes = answer_all(cases, assistant, k, reread)
    return summarise(outcomes, assistant.abstain_below, True, time.perf_counter() - started), outcomes


def evaluate_reader(path: str | Path, weights: Path | None = None, limit: int | None = None) -> dict:
    """Reader-only summary on a SQuAD file."""
    return evaluate(Path(path), "reader", weights=weights, limit=limit)[0]


def predictions(outcomes: list[Outcome], threshold: float) -> dict[str, str]:
    """``{id: answer}`` at ``threshold`` (``""`` for an abstention)."""
    return {o.case.id: o.prediction(threshold) for o in outcomes}


def write_report(path: Path, outcomes: list[Outcome], summary: dict) -> None:
    """Markdown: the summary, then every wrong answer with question, gold, prediction, confidence, passage."""
    lines = ["# Evaluation report", "", "```json", json.dumps(summary, ensure_ascii=False, indent=2), "```", "", "## Wrong answers", ""]
    for o in outcomes:
        prediction = o.prediction(summary["threshold"])
        if exact_match(prediction, o.case.golds):
            continue
        lines += [
            f"### {o.case.id}: {o.case.question}",
            f"- gold: {' | '.join(o.case.golds) or '(not in the text: abstain)'}",
            f"- prediction: {prediction or '(abstained)'}" + (f" (best span: {o.answer})" if o.answer and not prediction else ""),
            f"- confidence: {o.confidence:.3f}; F1 {100 * f1_score(prediction, o.case.golds):.1f}",
            f"- passage: {o.passage}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def format_table(summary: dict) -> list[str]:
    """The printed summary of ``qa eval``."""
    lines = [f"{'':<13}{'n':>6}{'EM':>8}{'F1':>8}"]
    for name, s in (("all", summary), ("answerable", summary["answerable"]), ("unanswerable", summary["unanswerable"])):
        if s["n"]:
            lines.append(f"{name:<13}{s['n']:>6}{s['em']:>8.2f}{s['f1']:>8.2f}")
    a = summary["abstention"]
    if summary["unanswerable"]["n"]:
        lines.append(f"abstention (confidence < {summary['threshold']}): precision {a['precision']}, recall {a['recall']}, answerable abstained {a['answerable_abstained_rate']}")
        na = summary["no_answer"]
        lines.append(
            f"SQuAD 2.0: HasAns EM {na['has_ans_em']} F1 {na['has_ans_f1']}, NoAns accuracy {na['no_ans_accuracy']}; "
            f"best threshold {na['best_threshold']}: EM {na['best_em']} F1 {na['best_f1']}; no-answer AUC {na['auc']}"
        )
    if "retrieval" in summary:
        lines.append("retrieval: " + ", ".join(f"{k} {v}" for k, v in summary["retrieval"].items()))
    lines.append(f"latency per question: p50 {summary['latency_ms']['p50']} ms, p95 {summary['latency_ms']['p95']} ms")
    if "questions_per_s" in summary:
        lines.append(f"throughput: {summary['questions_per_s']} questions/s")
    return lines
