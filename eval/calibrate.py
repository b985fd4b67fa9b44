"""Fit the confidence and the abstention threshold on CMRC 2018 dev + squad2_zh dev; check on the article.

    python -m eval.calibrate [--weights W] [--limit N] [--write] [--data DIR]

Each question is read against its own paragraph (reader mode) and its best admissible answer
gives two signals: the reader's margin (best span over its window's no-answer score) and the
support (share of the question's content words in the paragraph). Logistic regression fits
confidence = sigmoid(w_m * margin + w_s * support + b) to "the answer is right" (F1 >= 0.5 on
an answerable question; never on an unanswerable one); the threshold is the one with the best
overall F1 on the fit set (the SQuAD 2.0 convention). It prints the reliability (mean
confidence against accuracy per decile of confidence), the fit-set scores, and the article
set (eval/questions.jsonl, end to end) as the held-out check. ``--write`` stores the
parameters, with what they were fitted on and when, in qa/weights/calibration.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.paths import QUESTIONS, ROOT, add_data_arg
from qa.confidence import CALIBRATION_FILE, Calibration
from qa.evaluate import Outcome, answer_all, load_cases, predictions, read_only
from qa.metrics import f1_score
from qa.policy import AnswerPolicy
from qa.scores import best_threshold, summarise

FIT_FILES = ("cmrc2018_dev.json", "squad2_zh_dev.json")  # in DATA/dev


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 5000, lr: float = 0.5) -> np.ndarray:
    """Weights (w_margin, w_support, bias) maximising the likelihood of ``y`` (features standardised while fitting)."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([(x - mean) / std, np.ones(len(x))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= lr * z.T @ (p - y) / len(y)
    return np.r_[w[:-1] / std, w[-1] - (w[:-1] * mean / std).sum()]


def features(outcomes: list[Outcome]) -> tuple[np.ndarray, np.ndarray]:
    """(margin, support) per outcome (-30, 0 where no span was admissible) and the right-answer labels."""
    x = np.array([(o.signals.margin, o.signals.support) if o.signals else (-30.0, 0.0) for o in outcomes])
    y = np.array([bool(o.case.golds) and f1_score(o.answer, o.case.golds) >= 0.5 for o in outcomes], dtype=float)
    return x, y


def recalibrated(outcomes: list[Outcome], calibration: Calibration) -> list[Outcome]:
    return [replace(o, confidence=calibration.confidence(o.signals) if o.signals else 0.0) for o in outcomes]


def reliability(outcomes: list[Outcome]) -> list[str]:
    """Mean confidence against the share of right answers, per decile of confidence."""
    conf = np.array([o.confidence for o in outcomes])
    _, right = features(outcomes)
    lines = [f"{'decile':>6} {'n':>5} {'mean confidence':>16} {'right':>7}"]
    edges = np.quantile(conf, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, 9)
    for d in range(10):
        m = bins == d
        if m.any():
            lines.append(f"{d + 1:>6} {int(m.sum()):>5} {conf[m].mean():>16.3f} {right[m].mean():>7.3f}")
    return lines


def report(name: str, summary: dict) -> str:
    a = summary["abstention"]
    line = f"{name}: F1 {summary['f1']} EM {summary['em']} at {summary['threshold']:.3f}; answerable F1 {summary['answerable']['f1']}, abstained {a['answerable_abstained_rate']}"
    if summary["unanswerable"]["n"]:
        line += f"; unanswerable abstained {a['recall']}; best threshold {summary['no_answer']['best_threshold']} F1 {summary['no_answer']['best_f1']}; AUC {summary['no_answer']['auc']}"
    return line


def main() -> None:
    from qa.assistant import Assistant
    from qa.reader import READER_WEIGHTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=READER_WEIGHTS)
    parser.add_argument("--limit", type=int, help="questions per fit file")
    parser.add_argument("--write", action="store_true", help=f"store the fit in {CALIBRATION_FILE.relative_to(ROOT)}")
    parser.add_argument("--predictions", type=Path, help="write each fit file's predictions (at this fit's threshold; CMRC always answers) here")
    add_data_arg(parser)
    args = parser.parse_args()
    assistant = Assistant.from_corpus(reader_weights=args.weights)
    shipped = Calibration.load()
    files = [args.data / "dev" / name for name in FIT_FILES]
    per_file = {f.name: read_only(load_cases(f)[: args.limit], assistant.reader, AnswerPolicy.load(shipped)) for f in files if f.is_file()}
    outcomes = [o for found in per_file.values() for o in found]
    x, y = features(outcomes)
    w = fit_logistic(x, y)
    fitted = Calibration(*map(float, w), 0.0)
    threshold, _, _ = best_threshold(recalibrated(outcomes, fitted))
    fitted = Calibration(*map(float, w), round(threshold, 4))
    print(f"fit on {', '.join(f'{k} ({len(v)})' for k, v in per_file.items())}")
    print(f"confidence = sigmoid({w[0]:.4f} * margin + {w[1]:.4f} * support + {w[2]:.4f}); abstain below {fitted.abstain_below}")
    print("\nreliability on the fit set:")
    print("\n".join(reliability(recalibrated(outcomes, fitted))))
    for name, found in per_file.items():
        print(report(f"{name} (shipped calibration)", summarise(found, shipped.abstain_below, False)))
        print(report(f"{name} (this fit)", summarise(recalibrated(found, fitted), fitted.abstain_below, False)))
        if args.predictions:
            threshold = fitted.abstain_below if any(not o.case.golds for o in found) else 0.0
            args.predictions.mkdir(parents=True, exist_ok=True)
            (args.predictions / name).write_text(json.dumps(predictions(recalibrated(found, fitted), threshold), ensure_ascii=False, indent=1), encoding="utf-8")
    article = answer_all(load_cases(QUESTIONS), assistant, None)
    print(report("article, shipped calibration", summarise(article, shipped.abstain_below, True)))
    print(report("article, this fit (held out)", summarise(recalibrated(article, fitted), fitted.abstain_below, True)))
    if args.write:
        CALIBRATION_FILE.write_text(json.dumps({
            "w_margin": round(fitted.w_margin, 4), "w_support": round(fitted.w_support, 4), "bias": round(fitted.bias, 4),
            "abstain_below": fitted.abstain_below,
            "fitted_on": [f"{name} ({len(found)} questions, reader mode)" for name, found in per_file.items()],
            "reader": args.weights.name,
            "date": datetime.date.today().isoformat(),
            "method": "python -m eval.calibrate: logistic regression of 'answer right (F1 >= 0.5)' on margin and support; threshold of best overall F1 on the fit set",
        }, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
