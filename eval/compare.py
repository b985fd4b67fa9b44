"""Is B better than A? A paired comparison of two prediction files on one question set.

    python -m eval.compare eval/questions.jsonl A.json B.json
    python -m eval.compare ../shared/qa-data/dev/squad2_zh_dev.json A.json B.json

Prediction files are ``qa eval --predictions`` output (``{id: answer}``). For all questions
(and for the answerable and the unanswerable ones, where the set has both) it prints EM and
F1 of A and B, the difference B − A with a 95 % interval from a paired bootstrap over
questions, and how many answers changed, scored better and scored worse. An interval that
straddles 0 means the set is too small to tell the two apart: 129 article questions cannot
resolve 2 F1.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.evaluation.runner import Case, load_cases
from qa.evaluation.metrics import exact_match, f1_score


@dataclass(frozen=True)
class Difference:
    """Mean of B − A over questions (×100) and its 95 % bootstrap interval."""

    mean: float
    low: float
    high: float


def paired_difference(a: np.ndarray, b: np.ndarray, resamples: int = 10000, seed: int = 0) -> Difference:
    """Bootstrap the mean of ``b - a`` by resampling questions with replacement."""
    diff = 100 * (b - a)
    draws = np.random.default_rng(seed).integers(0, len(diff), size=(resamples, len(diff)))
    means = diff[draws].mean(axis=1)
    return Difference(float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def load_predictions(path: Path, cases: list[Case]) -> list[str]:
    """Each case's predicted answer; ``ValueError`` names the ids the file lacks."""
    predictions = json.loads(path.read_text(encoding="utf-8"))
    missing = [c.id for c in cases if c.id not in predictions]
    if missing:
        raise ValueError(f"{path}: no prediction for {len(missing)} questions (first: {missing[0]})")
    return [predictions[c.id] for c in cases]


def compare(cases: list[Case], a: list[str], b: list[str], resamples: int = 10000) -> list[str]:
    """The comparison table, one line per question group and metric."""
    answerable = np.array([bool(c.golds) for c in cases])
    groups = {"all": np.ones(len(cases), dtype=bool)}
    if not answerable.all():
        groups |= {"answerable": answerable, "unanswerable": ~answerable}
    changed = np.array([x != y for x, y in zip(a, b)])
    scores = {
        metric: (np.array([score(x, c.golds) for x, c in zip(a, cases)]), np.array([score(y, c.golds) for y, c in zip(b, cases)]))
        for metric, score in (("EM", exact_match), ("F1", f1_score))
    }
    lines = [f"{'':<13}{'n':>6} {'metric':<4}{'A':>8}{'B':>8}{'B - A':>8}   95% interval   changed better worse"]
    for name, group in groups.items():
        for metric, (score_a, score_b) in scores.items():
            sa, sb = score_a[group], score_b[group]
            d = paired_difference(sa, sb, resamples)
            lines.append(
                f"{name:<13}{int(group.sum()):>6} {metric:<4}{100 * sa.mean():>8.2f}{100 * sb.mean():>8.2f}{d.mean:>+8.2f}"
                f"   [{d.low:+6.2f}, {d.high:+6.2f}] {int(changed[group].sum()):>7} {int((sb > sa).sum()):>6} {int((sb < sa).sum()):>5}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="eval/questions.jsonl or a SQuAD .json file")
    parser.add_argument("a", type=Path, help="predictions of the baseline")
    parser.add_argument("b", type=Path, help="predictions of the candidate")
    parser.add_argument("--resamples", type=int, default=10000)
    parser.add_argument("--limit", type=int, help="only the first N questions (as qa eval --limit)")
    args = parser.parse_args()
    cases = load_cases(args.questions)[: args.limit]
    try:
        a, b = load_predictions(args.a, cases), load_predictions(args.b, cases)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    print("\n".join(compare(cases, a, b, args.resamples)))


if __name__ == "__main__":
    main()
