"""Calibrate the assistant's confidence and abstention threshold on eval/questions.jsonl.

For every question the pipeline's best span and no-answer score give a margin
``best - null``. We fit confidence = sigmoid(a * margin + b) to "the answer is right"
(F1 ≥ 0.5 on answerable questions; wrong on unanswerable ones) by logistic regression,
then print the overall/answerable F1 and abstention rates for a range of thresholds.

    python eval/calibrate.py [-k K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.retrieval import load_questions  # noqa: E402
from qa.assistant import DEFAULT_K, Assistant  # noqa: E402
from qa.metrics import f1_score  # noqa: E402


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 5000, lr: float = 0.1) -> tuple[float, float]:
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a * x + b)))
        a -= lr * float(np.mean((p - y) * x))
        b -= lr * float(np.mean(p - y))
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", type=int, default=DEFAULT_K)
    args = parser.parse_args()
    questions = load_questions()
    assistant = Assistant(abstain_below=0.0)
    margins, f1s, golds = [], [], []
    for q in questions:
        hits = assistant.retriever.search(q["question"], k=args.k)
        reading = assistant.reader.run(q["question"], [h.text for h in hits])
        best = reading.best
        margins.append(best.score - reading.null_score if best else -99.0)
        f1s.append(f1_score(best.text if best else "", q["answers"]) if q["answers"] else 0.0)
        golds.append(bool(q["answers"]))
    x, f1s, golds = np.array(margins), np.array(f1s), np.array(golds)
    a, b = fit_logistic(x, ((f1s >= 0.5) & golds).astype(float))
    print(f"confidence = sigmoid({a:.4f} * margin + {b:.4f})")
    print(f"{'threshold':>9} {'F1 all':>7} {'F1 ans':>7} {'unans abstained':>16} {'ans abstained':>14}")
    for threshold in np.arange(0.05, 0.96, 0.05):
        conf = 1 / (1 + np.exp(-(a * x + b)))
        keep = conf >= threshold
        scores = np.where(golds, np.where(keep, f1s, 0.0), (~keep).astype(float))
        print(f"{threshold:>9.2f} {100 * scores.mean():>7.2f} {100 * scores[golds].mean():>7.2f} "
              f"{(~keep[~golds]).mean():>16.3f} {(~keep[golds]).mean():>14.3f}")
    print(f"answerable F1 without abstention: {100 * statistics.fmean(f1s[golds]):.2f}")


if __name__ == "__main__":
    main()
