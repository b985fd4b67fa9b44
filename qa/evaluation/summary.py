"""Scores of an evaluation's outcomes (:class:`qa.evaluation.runner.Outcome`): EM/F1 at a threshold and at
the best one, no-answer metrics, retrieval recall and MRR, latency, and the printed table."""

from __future__ import annotations

from collections import Counter

import numpy as np

from qa.evaluation.metrics import exact_match, f1_score, holds
from qa.answering.question_types import sentence_question
from qa.answering.steps import STEPS
from qa.settings import SENTENCE_ANSWER_CHARS


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


def scores_at(outcomes: list, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-question EM and F1 when abstaining below ``threshold``."""
    em = np.array([exact_match(o.prediction(threshold), o.case.golds) for o in outcomes])
    f1 = np.array([f1_score(o.prediction(threshold), o.case.golds) for o in outcomes])
    return em, f1


def best_threshold(outcomes: list) -> tuple[float, float, float]:
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


def summarise(outcomes: list, threshold: float, retrieval: bool, seconds: float | None = None) -> dict:
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
    sentence = [o for o in outcomes if o.case.golds and sentence_question(o.case.question)]
    if sentence:  # answered with a sentence: does it hold the gold answer (as the why/how set is scored)?
        held = sum(len(a := o.prediction(threshold)) <= SENTENCE_ANSWER_CHARS and holds(a, o.case.golds) for o in sentence)
        spans = [(o.phrase or o.answer) if o.prediction(threshold) else "" for o in sentence]  # had they been answered with spans
        summary["sentence_questions"] = {
            "n": len(sentence),
            "hold_gold": int(held),
            "span_em": round(100 * float(np.mean([exact_match(a, o.case.golds) for a, o in zip(spans, sentence)])), 2),
            "span_f1": round(100 * float(np.mean([f1_score(a, o.case.golds) for a, o in zip(spans, sentence)])), 2),
        }
    summary["rules"] = rule_counts(o.rules for o in outcomes)
    sources = sorted({o.case.source for o in outcomes if o.case.source})
    if len(sources) > 1:
        summary["sources"] = {name: by_source([o for o in outcomes if o.case.source == name], threshold) for name in sources}
    return summary


def rule_counts(rules) -> dict[str, int]:
    """How many answers each answer step changed, given each answer's ``rules``, in the steps' order."""
    counts = Counter(name for names in rules for name in names)
    order = ["follow_up", *(s.name for s in STEPS)]
    return {name: counts[name] for name in sorted(counts, key=lambda n: order.index(n) if n in order else len(order))}


def rules_line(counts: dict[str, int]) -> str:
    return "answer steps (answers each changed): " + (", ".join(f"{name} {n}" for name, n in counts.items()) or "none")


def by_source(outcomes: list, threshold: float) -> dict:
    """One source's answerable questions answered right (exact match), wrong and abstained;
    its F1 (answerable and unanswerable questions), and the F1 at its own best threshold."""
    em, f1 = scores_at(outcomes, threshold)
    em = em.astype(bool)
    answerable = np.array([bool(o.case.golds) for o in outcomes])
    abstained = np.array([not o.prediction(threshold) for o in outcomes])
    return {
        "n": len(outcomes),
        "answerable": int(answerable.sum()),
        "right": int((answerable & ~abstained & em).sum()),
        "wrong": int((answerable & ~abstained & ~em).sum()),
        "abstained": int((answerable & abstained).sum()),
        "unanswerable_abstained": f"{int((~answerable & abstained).sum())}/{int((~answerable).sum())}",
        "f1": round(100 * float(f1.mean()), 2),
        "best_f1": best_threshold(outcomes)[2],
    }


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
    if "sources" in summary:
        lines.append(f"{'source':<24}{'n':>6}{'right':>7}{'wrong':>7}{'abst.':>7}{'unans. abst.':>14}{'F1':>8}{'best F1':>9}")
        for name, s in summary["sources"].items():
            lines.append(f"{name:<24}{s['n']:>6}{s['right']:>7}{s['wrong']:>7}{s['abstained']:>7}{s['unanswerable_abstained']:>14}{s['f1']:>8.2f}{s['best_f1']:>9.2f}")
    if "sentence_questions" in summary:
        s = summary["sentence_questions"]
        lines.append(f"why/how/what-is questions: {s['n']}; answers holding a gold answer within {SENTENCE_ANSWER_CHARS} characters: "
                     f"{s['hold_gold']} ({100 * s['hold_gold'] / s['n']:.1f} %); their spans alone: EM {s['span_em']}, F1 {s['span_f1']}")
    if "rules" in summary:
        lines.append(rules_line(summary["rules"]))
    lines.append(f"latency per question: p50 {summary['latency_ms']['p50']} ms, p95 {summary['latency_ms']['p95']} ms")
    if "questions_per_s" in summary:
        lines.append(f"throughput: {summary['questions_per_s']} questions/s")
    return lines
