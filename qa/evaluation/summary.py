"""Scores of an evaluation's outcomes (:class:`qa.evaluation.runner.Outcome`): EM/F1 in the
strict and shown views and at the best threshold, per-grade accuracy, no-answer metrics,
retrieval recall and MRR, latency, and the printed table."""

from __future__ import annotations

from collections import Counter

import numpy as np

from qa.evaluation.metrics import exact_match, f1_score, holds
from qa.answering.policy import GRADES
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


def scores_in(outcomes: list, view: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-question EM and F1 of the answers counted in ``view`` (:data:`qa.evaluation.runner.VIEWS`)."""
    em = np.array([exact_match(o.prediction(view), o.case.golds) for o in outcomes])
    f1 = np.array([f1_score(o.prediction(view), o.case.golds) for o in outcomes])
    return em, f1


def best_threshold(outcomes: list) -> tuple[float, float, float]:
    """(threshold, EM, F1) of the threshold on the confidence with the best overall F1 (SQuAD 2.0 convention)."""
    conf = np.array([o.confidence for o in outcomes])
    answerable = np.array([bool(o.case.golds) for o in outcomes])
    answered_em, answered_f1 = scores_in(outcomes, "all")
    best = (0.0, -1.0, -1.0)
    for t in np.unique(np.r_[0.0, conf, np.nextafter(conf.max(), 2)]):
        keep = conf >= t
        f1 = np.where(keep, answered_f1, ~answerable).mean()
        if f1 > best[2]:
            best = (float(t), float(np.where(keep, answered_em, ~answerable).mean()), float(f1))
    return best[0], round(100 * best[1], 2), round(100 * best[2], 2)


def right(outcome) -> bool:
    """The best answer is right: F1 >= 0.5 against a gold answer (never, for an unanswerable question)."""
    return bool(outcome.case.golds) and f1_score(outcome.answer, outcome.case.golds) >= 0.5


def grade_counts(outcomes: list) -> dict:
    """Per grade: how many, how many were answerable, and how often the (shown or withheld) answer was right."""
    counts = {}
    for grade in GRADES:
        mine = [o for o in outcomes if o.grade == grade]
        hits = sum(map(right, mine))
        counts[grade] = {"n": len(mine), "answerable": sum(bool(o.case.golds) for o in mine), "right": hits, "accuracy": round(hits / len(mine), 4) if mine else None}
    return counts


def groups(outcomes: list, view: str) -> dict:
    """EM/F1 in ``view``: all questions, the answerable and the unanswerable ones."""
    em, f1 = scores_in(outcomes, view)
    answerable = np.array([bool(o.case.golds) for o in outcomes])

    def group(mask: np.ndarray) -> dict:
        n = int(mask.sum())
        return {"n": n, "em": round(100 * em[mask].mean(), 2) if n else None, "f1": round(100 * f1[mask].mean(), 2) if n else None}

    return {**group(np.ones(len(outcomes), dtype=bool)), "answerable": group(answerable), "unanswerable": group(~answerable)}


def summarise(outcomes: list, view: str, retrieval: bool, seconds: float | None = None) -> dict:
    """EM/F1 overall and by answerability in ``view`` (``strict``: only ``sure`` answers count,
    the product's promise; ``all`` for reader-mode benchmarks that always answer) and in the
    ``shown`` view (``sure`` and ``unsure``); per-grade accuracy, abstention rates, no-answer
    metrics (where the set has unanswerable questions), retrieval recall/MRR, speed."""
    answerable = np.array([bool(o.case.golds) for o in outcomes])
    abstained = np.array([not o.prediction(view) for o in outcomes])
    summary = {
        **groups(outcomes, view),
        "view": view,
        "shown": groups(outcomes, "shown"),
        "grades": grade_counts(outcomes),
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
        no_answer = {name: {"has_ans_em": g["answerable"]["em"], "has_ans_f1": g["answerable"]["f1"], "no_ans_accuracy": round(100 * float(np.mean([not o.prediction(name) for o in outcomes if not o.case.golds])), 2)}
                     for name, g in ((view, summary), ("shown", summary["shown"]))}
        summary["no_answer"] = {  # in the summary's view, and in the shown view
            **no_answer[view],
            "shown": no_answer["shown"],
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
        held = sum(len(a := o.prediction(view)) <= SENTENCE_ANSWER_CHARS and holds(a, o.case.golds) for o in sentence)
        spans = [(o.phrase or o.answer) if o.prediction(view) else "" for o in sentence]  # had they been answered with spans
        summary["sentence_questions"] = {
            "n": len(sentence),
            "hold_gold": int(held),
            "span_em": round(100 * float(np.mean([exact_match(a, o.case.golds) for a, o in zip(spans, sentence)])), 2),
            "span_f1": round(100 * float(np.mean([f1_score(a, o.case.golds) for a, o in zip(spans, sentence)])), 2),
        }
    summary["rules"] = rule_counts(o.rules for o in outcomes)
    sources = sorted({o.case.source for o in outcomes if o.case.source})
    if len(sources) > 1:
        summary["sources"] = {name: by_source([o for o in outcomes if o.case.source == name], view) for name in sources}
    return summary


def rule_counts(rules) -> dict[str, int]:
    """How many answers each answer step changed, given each answer's ``rules``, in the steps' order."""
    counts = Counter(name for names in rules for name in names)
    order = ["follow_up", *(s.name for s in STEPS)]
    return {name: counts[name] for name in sorted(counts, key=lambda n: order.index(n) if n in order else len(order))}


def rules_line(counts: dict[str, int]) -> str:
    return "answer steps (answers each changed): " + (", ".join(f"{name} {n}" for name, n in counts.items()) or "none")


def by_source(outcomes: list, view: str) -> dict:
    """One source's answerable questions answered right (exact match), wrong and abstained in
    ``view``; its unanswerable ones withheld; its F1 in ``view`` and shown; the F1 at its own
    best threshold; and its grades."""
    em, f1 = scores_in(outcomes, view)
    em = em.astype(bool)
    answerable = np.array([bool(o.case.golds) for o in outcomes])
    abstained = np.array([not o.prediction(view) for o in outcomes])
    grades = grade_counts(outcomes)
    return {
        "n": len(outcomes),
        "answerable": int(answerable.sum()),
        "right": int((answerable & ~abstained & em).sum()),
        "wrong": int((answerable & ~abstained & ~em).sum()),
        "abstained": int((answerable & abstained).sum()),
        "unanswerable_abstained": f"{int((~answerable & abstained).sum())}/{int((~answerable).sum())}",
        "f1": round(100 * float(f1.mean()), 2),
        "shown_f1": round(100 * float(scores_in(outcomes, "shown")[1].mean()), 2),
        "best_f1": best_threshold(outcomes)[2],
        "sure": grades["sure"],
        "unsure": grades["unsure"],
        "unanswerable_sure": sum(o.grade == "sure" and not o.case.golds for o in outcomes),
    }


def _accuracy(g: dict) -> str:
    return f"{g['n']} ({100 * g['accuracy']:.1f} % right)" if g["n"] else "0"


def format_table(summary: dict) -> list[str]:
    """The printed summary of ``qa eval``."""
    view, shown = summary["view"], summary["shown"]
    lines = [f"{'':<13}{'n':>6}{'EM':>8}{'F1':>8}{'shown EM':>10}{'shown F1':>10}" if view == "strict" else f"{'':<13}{'n':>6}{'EM':>8}{'F1':>8}"]
    for name, s, o in (("all", summary, shown), ("answerable", summary["answerable"], shown["answerable"]), ("unanswerable", summary["unanswerable"], shown["unanswerable"])):
        if s["n"]:
            lines.append(f"{name:<13}{s['n']:>6}{s['em']:>8.2f}{s['f1']:>8.2f}" + (f"{o['em']:>10.2f}{o['f1']:>10.2f}" if view == "strict" else ""))
    if view == "strict":
        lines.append("(EM, F1: strict view, only sure answers count as answered; shown: sure and unsure answers)")
    g = summary["grades"]
    lines.append(f"grades: sure {_accuracy(g['sure'])}, unsure {_accuracy(g['unsure'])}, none {g['none']['n']} "
                 f"({g['none']['answerable']} answerable; withheld guesses right {g['none']['right']})")
    a = summary["abstention"]
    if summary["unanswerable"]["n"]:
        lines.append(f"abstention ({view}): precision {a['precision']}, recall {a['recall']}, answerable abstained {a['answerable_abstained_rate']}")
        na = summary["no_answer"]
        views = "; ".join(f"{name}: HasAns EM {v['has_ans_em']} F1 {v['has_ans_f1']}, NoAns accuracy {v['no_ans_accuracy']}" for name, v in {view: na, "shown": na["shown"]}.items())
        lines.append(f"SQuAD 2.0 {views}; best threshold {na['best_threshold']}: EM {na['best_em']} F1 {na['best_f1']}; no-answer AUC {na['auc']}")
    if "retrieval" in summary:
        lines.append("retrieval: " + ", ".join(f"{k} {v}" for k, v in summary["retrieval"].items()))
    if "sources" in summary:
        lines.append(f"{'source':<20}{'n':>6}{'right':>7}{'wrong':>7}{'abst.':>7}{'unans. abst.':>14}{'F1':>8}{'shown F1':>10}{'best F1':>9}  sure / unsure (right)")
        for name, s in summary["sources"].items():
            lines.append(f"{name:<20}{s['n']:>6}{s['right']:>7}{s['wrong']:>7}{s['abstained']:>7}{s['unanswerable_abstained']:>14}{s['f1']:>8.2f}{s['shown_f1']:>10.2f}{s['best_f1']:>9.2f}  {_accuracy(s['sure'])} / {_accuracy(s['unsure'])}")
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
