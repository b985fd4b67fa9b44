"""Calibrate the assistant's confidence and abstention threshold on eval/questions.jsonl.

Every answer carries two signals (``Answer.signals``): the reader's margin (best span
score over its window's no-answer score) and the support (share of the question's content words in
the answer's passage). We fit confidence = sigmoid(w_m * margin + w_s * support + b) to
"the answer is right" (F1 ≥ 0.5 on an answerable question; never on an unanswerable one)
by logistic regression, then print F1 and abstention rates per threshold, both fitted on
all questions and by 5-fold cross-validation (fit on 4/5, scored on the held-out 1/5).

    python eval/calibrate.py [-k K]
It first prints answerable F1 (no abstention) and answer time for k = 1..5 chunks read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.retrieval import load_questions  # noqa: E402
from qa.assistant import DEFAULT_K, Assistant  # noqa: E402
from qa.metrics import f1_score  # noqa: E402


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 20000, lr: float = 0.05) -> np.ndarray:
    """Weights (w_margin, w_support, bias) maximising the likelihood of ``y``."""
    features = np.column_stack([x, np.ones(len(x))])
    w = np.zeros(features.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-features @ w))
        w -= lr * features.T @ (p - y) / len(y)
    return w


def confidence(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(np.column_stack([x, np.ones(len(x))]) @ w)))


def answer_signals(assistant: Assistant, questions: list[dict], k: int):
    """Per question: (margin, support), F1 of the unabstained answer (0 on unanswerable), answer time."""
    signals, f1s, seconds = [], [], []
    for q in questions:
        started = time.perf_counter()
        answer = assistant.ask(q["question"], k=k)
        seconds.append(time.perf_counter() - started)
        s = answer.signals
        signals.append((s.margin, s.support) if s else (-99.0, 0.0))
        f1s.append(f1_score(answer.answer, q["answers"]) if q["answers"] else 0.0)
    return np.array(signals), np.array(f1s), seconds


def table(conf: np.ndarray, f1s: np.ndarray, golds: np.ndarray) -> None:
    print(f"{'threshold':>9} {'F1 all':>7} {'F1 ans':>7} {'unans abstained':>16} {'ans abstained':>14}")
    for threshold in np.arange(0.1, 0.91, 0.05):
        keep = conf >= threshold
        scores = np.where(golds, np.where(keep, f1s, 0.0), (~keep).astype(float))
        print(f"{threshold:>9.2f} {100 * scores.mean():>7.2f} {100 * scores[golds].mean():>7.2f} "
              f"{(~keep[~golds]).mean():>16.3f} {(~keep[golds]).mean():>14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", type=int, default=DEFAULT_K)
    args = parser.parse_args()
    questions = load_questions()
    assistant = Assistant(abstain_below=0.0)
    golds = np.array([bool(q["answers"]) for q in questions])
    print(f"{'k':>2} {'F1 answerable (no abstention)':>30} {'answer ms p50':>14}")
    for k in range(1, 6):
        _, f1s, seconds = answer_signals(assistant, questions, k)
        print(f"{k:>2} {100 * f1s[golds].mean():>30.2f} {1000 * statistics.median(seconds):>14.1f}")
    x, f1s, _ = answer_signals(assistant, questions, args.k)
    y = ((f1s >= 0.5) & golds).astype(float)
    w = fit_logistic(x, y)
    print(f"\nk = {args.k}: confidence = sigmoid({w[0]:.4f} * margin + {w[1]:.4f} * support + {w[2]:.4f})")
    table(confidence(x, w), f1s, golds)
    folds = np.arange(len(questions)) % 5
    held_out = np.empty(len(questions))
    for f in range(5):
        held_out[folds == f] = confidence(x[folds == f], fit_logistic(x[folds != f], y[folds != f]))
    print("\n5-fold cross-validated:")
    table(held_out, f1s, golds)


if __name__ == "__main__":
    main()
