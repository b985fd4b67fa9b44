"""Answerability from the reader's [CLS] state (a "verifier") against its no-answer margin.

    python -m eval.verifier [--train N] [--dev N] [--weights W]
Reads questions of squad2_zh train and dev with the reader (fp32, each question against its
own paragraph) and keeps, per question, the best span's margin over no-answer and the final
[CLS] state of the window it came from. Fits a logistic head (L2, LBFGS) on the train
questions and prints the dev AUC of "answerable" for: the margin alone (what the shipped
confidence uses), the head on the [CLS] state, and the head on both (``--train 0`` skips
these probes). Weights with a trained answerability head (``qa train-reader
--answerable-weight``) add its logit (that window's) alone, and beside the margin in a
logistic fit cross-validated on dev (two folds): their training saw squad2_zh train.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.evaluate import auc, load_cases
from qa.e5 import load_tokenizer
from qa.reader import ANSWERABLE_HEAD, READER_WEIGHTS, encode_windows, load_model, span_band

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "qa-data"
TRAIN = DATA / "train" / "squad2_zh_train.json"
DEV = DATA / "dev" / "squad2_zh_dev.json"


def features(model, tokenizer, cases, batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Per question: [best margin, trained head's logit (nan without a head), final [CLS]
    state] of the window of its best span, and 1 if answerable."""
    import torch

    head = getattr(model, ANSWERABLE_HEAD, None)
    rows, labels = [], []
    for lo in tqdm(range(0, len(cases), batch), desc="reading", file=sys.stderr, mininterval=10):
        part = cases[lo : lo + batch]
        windows = encode_windows(tokenizer, [c.question for c in part], [c.context for c in part])
        with torch.inference_mode():
            out = model(input_ids=torch.from_numpy(windows.input_ids), attention_mask=torch.from_numpy(windows.attention_mask), output_hidden_states=True)
            cls = out.hidden_states[-1][:, 0]
            answerable = head(cls).squeeze(-1).numpy() if head is not None else np.full(len(cls), np.nan)
        start, end, cls = out.start_logits.numpy(), out.end_logits.numpy(), cls.numpy()
        n = start.shape[1]
        band = span_band(n)
        margins = np.full(len(start), -np.inf)
        for w in range(len(start)):
            ok = band & windows.context[w][:, None] & windows.context[w][None, :]
            if ok.any():
                margins[w] = (start[w][:, None] + end[w][None, :])[ok].max() - start[w, 0] - end[w, 0]
        for k, case in enumerate(part):
            mine = np.flatnonzero(windows.sample == k)
            best = mine[np.argmax(margins[mine])]
            rows.append(np.r_[margins[best], answerable[best], cls[best]])
            labels.append(1.0 if case.golds else 0.0)
    return np.asarray(rows, dtype=np.float32), np.asarray(labels, dtype=np.float32)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights and bias of an L2-regularised logistic regression on standardised ``x``, with the standardisation."""
    import torch

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xt, yt = torch.from_numpy((x - mean) / scale), torch.from_numpy(y)
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500, line_search_fn="strong_wolfe")

    def loss():
        opt.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt) + l2 * (w * w).sum()
        value.backward()
        return value

    opt.step(loss)
    return w.detach().numpy(), b.detach().numpy(), np.stack([mean, scale])


def cross_validated(x: np.ndarray, y: np.ndarray, l2: float, folds: int = 2) -> np.ndarray:
    """Scores of a logistic fit on ``x``, each question scored by the fit on the other folds."""
    fold = np.arange(len(y)) % folds
    out = np.empty(len(y))
    for k in range(folds):
        w, b, (mean, scale) = fit_logistic(x[fold != k], y[fold != k], l2)
        out[fold == k] = ((x[fold == k] - mean) / scale) @ w + b
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=2000, help="squad2_zh train questions to fit on")
    parser.add_argument("--dev", type=int, default=0, help="squad2_zh dev questions to score (0: all)")
    parser.add_argument("--weights", type=Path, default=READER_WEIGHTS)
    args = parser.parse_args()
    model, tokenizer = load_model(args.weights).eval(), load_tokenizer()
    rng = np.random.default_rng(0)
    train_cases = load_cases(TRAIN)
    train_cases = [train_cases[i] for i in sorted(rng.permutation(len(train_cases))[: args.train])]
    dev_cases = load_cases(DEV)[: args.dev or None]
    x_dev, y_dev = features(model, tokenizer, dev_cases)
    print(f"train {len(train_cases)} questions, dev {len(y_dev)} ({int(y_dev.sum())} answerable)")

    def dev_auc(score):
        return auc(score[y_dev == 1], score[y_dev == 0])

    print(f"{'signal':<34}{'dev AUC':>8}")
    print(f"{'margin alone':<34}{dev_auc(x_dev[:, 0]):>8.3f}")
    if not np.isnan(x_dev[:, 1]).any():
        print(f"{'trained head alone':<34}{dev_auc(x_dev[:, 1]):>8.3f}")
        print(f"{'trained head + margin (dev 2-fold)':<34}{dev_auc(cross_validated(x_dev[:, :2], y_dev, 1e-3)):>8.3f}")
    if not train_cases:
        return
    x_train, y_train = features(model, tokenizer, train_cases)
    for name, cols in (("[CLS] state head", slice(2, None)), ("[CLS] state + margin head", np.r_[0, 2 : x_dev.shape[1]])):
        for l2 in (1e-3, 1e-2, 1e-1):
            w, b, (mean, scale) = fit_logistic(x_train[:, cols], y_train, l2)
            print(f"{name + f' (L2 {l2:g})':<34}{dev_auc(((x_dev[:, cols] - mean) / scale) @ w + b):>8.3f}")


if __name__ == "__main__":
    main()
