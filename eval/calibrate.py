"""Fit the confidence and the abstention threshold on open-mode answers from several sources,
with each source held out in turn.

    python -m eval.archive questions /tmp/sources.jsonl          # held-out questions, by source
    python -m eval.calibrate --store ARCHIVE --questions /tmp/sources.jsonl [--answers A.jsonl] [--write]

The product's path answers every question (never abstaining: the threshold is applied when
scoring): the sources file's questions over the archive ``--store`` (CMRC dev, squad2_zh dev
with its unanswerable questions), and the article set over the article. Each best admissible
answer gives its :class:`qa.answering.calibration.Signals` features: the reader's margin, the support of
the question in the passage, the passage's place among those read and its dense and BM25
ranks, the answer's length. Logistic regression fits P(the answer is right: F1 >= 0.5 on an
answerable question, never on an unanswerable one); the threshold is the one with the best
F1 averaged over the fit sources (each source counts the same, whatever its size).

It prints, per source: the shipped calibration; the fit with that source left out (fitted and
thresholded on the others: how the calibration holds on a source it has not seen); the fit on
all. ``--answers`` keeps the answers' features in a file and reads them back on the next run
(the fit alone takes a second). ``--write`` stores the fit on all sources, with what it was
fitted on and when, in qa/weights/calibration.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np

from eval.paths import QUESTIONS, ROOT
from qa.answering.calibration import CALIBRATION_FILE, FEATURES, Calibration
from qa.evaluation.metrics import exact_match, f1_score

ARTICLE = "article"


def collect(store: str, questions: Path) -> list[dict]:
    """Every question answered in open mode: source, golds, answer and its features."""
    from qa.assistant import Assistant
    from qa.evaluation.runner import answer_all, load_cases

    rows = []
    for assistant, cases in ((Assistant.from_corpus(store=store), load_cases(questions)), (Assistant.from_corpus(), load_cases(QUESTIONS))):
        for o in answer_all(cases, assistant, None):
            features = o.signals.features() if o.signals else None
            rows.append({"source": o.case.source or ARTICLE, "golds": o.case.golds, "answer": o.answer, "features": features})
    return rows


def matrix(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (no admissible answer: margin -30, nothing else), right-answer labels, and which rows had an answer."""
    none = {name: 0.0 for name in FEATURES} | {"margin": -30.0}
    x = np.array([[(r["features"] or none)[name] for name in FEATURES] for r in rows])
    y = np.array([r["f1"] >= 0.5 for r in rows], dtype=float)
    return x, y, np.array([r["features"] is not None for r in rows])


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 5000, lr: float = 0.5, l2: float = 1e-3) -> np.ndarray:
    """Weights (one per column, then the bias) maximising the likelihood of ``y``, lightly
    L2-regularised (features standardised while fitting)."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([(x - mean) / std, np.ones(len(x))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= lr * (z.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0.0])
    return np.r_[w[:-1] / std, w[-1] - (w[:-1] * mean / std).sum()]


def confidences(rows: list[dict], calibration: Calibration) -> np.ndarray:
    x, _, answered = matrix(rows)
    weights = np.array([calibration.weights.get(name, 0.0) for name in FEATURES])
    z = np.clip(x @ weights + calibration.bias, -50, 50)
    return np.where(answered, 1 / (1 + np.exp(-z)), 0.0)


def graded(rows: list[dict]) -> list[dict]:
    """Each answer's exact match and F1 against its golds (False and 0 for an unanswerable
    question), computed once: every threshold tried reads them."""
    return [{**r, "em": bool(r["golds"]) and bool(exact_match(r["answer"], r["golds"])), "f1": f1_score(r["answer"], r["golds"]) if r["golds"] else 0.0} for r in rows]


def scores(rows: list[dict], conf: np.ndarray, threshold: float) -> dict:
    """Answerable (of :func:`graded` rows): right (EM), wrong, abstained; unanswerable abstained;
    F1 (abstaining scores 100 on an unanswerable question)."""
    answered = conf >= threshold
    answerable = np.array([bool(r["golds"]) for r in rows])
    em, f1 = np.array([r["em"] for r in rows]), np.array([r["f1"] for r in rows])
    per_question = np.where(answered, f1, ~answerable)
    return {
        "n": len(rows),
        "right": int((answerable & answered & em).sum()),
        "wrong": int((answerable & answered & ~em).sum()),
        "abstained": int((answerable & ~answered).sum()),
        "abstained_rate": round(float((answerable & ~answered).sum() / max(answerable.sum(), 1)), 3),
        "unanswerable_abstained": f"{int((~answerable & ~answered).sum())}/{int((~answerable).sum())}",
        "f1": round(100 * float(per_question.mean()), 2),
    }


def best_threshold(groups: list[list[dict]], calibration: Calibration) -> float:
    """The threshold with the best F1 averaged over ``groups`` (one per source)."""
    confs = [confidences(g, calibration) for g in groups]
    candidates = np.unique(np.r_[0.0, np.concatenate(confs)])
    return float(max(candidates, key=lambda t: np.mean([scores(g, c, t)["f1"] for g, c in zip(groups, confs)])))


def fit(groups: list[list[dict]]) -> Calibration:
    rows = [r for g in groups for r in g]
    x, y, _ = matrix(rows)
    w = fit_logistic(x, y)
    calibration = Calibration({name: round(float(v), 4) for name, v in zip(FEATURES, w[:-1])}, round(float(w[-1]), 4), 0.0)
    return Calibration(calibration.weights, calibration.bias, round(best_threshold(groups, calibration), 4))


def line(name: str, rows: list[dict], calibration: Calibration) -> str:
    conf = confidences(rows, calibration)
    s = scores(rows, conf, calibration.abstain_below)
    best = max(scores(rows, conf, t)["f1"] for t in np.unique(np.r_[0.0, conf]))
    return f"  {name:<26} right {s['right']:>4} wrong {s['wrong']:>4} abstained {s['abstained']:>4} ({s['abstained_rate']:.1%}) unanswerable abstained {s['unanswerable_abstained']:>8}  F1 {s['f1']:6.2f}  best F1 {best:6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="the archive the sources' questions are asked over")
    parser.add_argument("--questions", type=Path, help="held-out questions with their sources (python -m eval.archive questions)")
    parser.add_argument("--answers", type=Path, help="keep the answers' features here, and read them back when the file exists")
    parser.add_argument("--write", action="store_true", help=f"store the fit on all sources in {CALIBRATION_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.answers and args.answers.is_file():
        rows = [json.loads(x) for x in args.answers.read_text(encoding="utf-8").splitlines()]
    else:
        if not (args.store and args.questions):
            parser.error("--store and --questions are needed to answer (or --answers FILE from an earlier run)")
        rows = collect(args.store, args.questions)
        if args.answers:
            args.answers.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    rows = graded(rows)
    sources = sorted({r["source"] for r in rows})
    by_source = {s: [r for r in rows if r["source"] == s] for s in sources}
    shipped = Calibration.load()
    everywhere = fit(list(by_source.values()))
    print(f"answers: {', '.join(f'{s} {len(g)}' for s, g in by_source.items())}")
    print(f"features: {', '.join(FEATURES)}")
    print(f"\nshipped: {shipped.weights}, bias {shipped.bias}, abstain below {shipped.abstain_below}")
    for s, g in by_source.items():
        print(line(s, g, shipped))
    print("\neach source left out (fitted and thresholded on the others):")
    for s, g in by_source.items():
        held_out = fit([other for name, other in by_source.items() if name != s])
        print(line(s, g, held_out) + f"   [threshold {held_out.abstain_below}]")
    print(f"\nfit on all: {everywhere.weights}, bias {everywhere.bias}, abstain below {everywhere.abstain_below}")
    for s, g in by_source.items():
        print(line(s, g, everywhere))
    if args.write:
        CALIBRATION_FILE.write_text(json.dumps({
            "weights": everywhere.weights, "bias": everywhere.bias, "abstain_below": everywhere.abstain_below,
            "fitted_on": [f"{s}: {len(g)} questions ({sum(not r['golds'] for r in g)} unanswerable), open mode" for s, g in by_source.items()],
            "reader": "reader.safetensors",
            "date": datetime.date.today().isoformat(),
            "method": "python -m eval.calibrate: logistic regression of 'answer right (F1 >= 0.5)' on the features, over open-mode answers (the sources' questions over the archive, the article set over the article); threshold of the best F1 averaged over the sources; each source held out in turn to check",
        }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
