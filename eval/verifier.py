"""Answerability from the reader's [CLS] state (a "verifier") against its no-answer margin.

    python -m eval.verifier [--train N] [--dev N] [--weights W]
Reads questions of squad2_zh train and dev with the reader (fp32, each question against its
own paragraph) and keeps, per question, the best span's margin over no-answer and the final
[CLS] state of the window it came from. Fits a logistic head (L2, LBFGS) on the train
questions and prints the dev AUC of "answerable" for: the margin alone (what the shipped
confidence uses), the head on the [CLS] state, and the head on both.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.evaluate import auc, load_cases
from qa.reader import READER_WEIGHTS, Reader, encode_windows, span_band

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "qa-data"
TRAIN = DATA / "train" / "squad2_zh_train.json"
DEV = DATA / "dev" / "squad2_zh_dev.json"


def features(reader: Reader, cases, batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Per question: [best margin, final [CLS] state of its window] and 1 if answerable."""
    import torch

    rows, labels = [], []
    for lo in tqdm(range(0, len(cases), batch), desc="reading", file=sys.stderr, mininterval=10):
        part = cases[lo : lo + batch]
        windows = encode_windows(reader.tokenizer, [c.question for c in part], [c.context for c in part])
        with torch.inference_mode():
            out = reader.model(input_ids=torch.from_numpy(windows.input_ids), attention_mask=torch.from_numpy(windows.attention_mask), output_hidden_states=True)
        start, end = out.start_logits.numpy(), out.end_logits.numpy()
        cls = out.hidden_states[-1][:, 0].numpy()
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
            rows.append(np.r_[margins[best], cls[best]])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=2000, help="squad2_zh train questions to fit on")
    parser.add_argument("--dev", type=int, default=0, help="squad2_zh dev questions to score (0: all)")
    parser.add_argument("--weights", type=Path, default=READER_WEIGHTS)
    args = parser.parse_args()
    reader = Reader(args.weights, precision="fp32")
    rng = np.random.default_rng(0)
    train_cases = load_cases(TRAIN)
    train_cases = [train_cases[i] for i in sorted(rng.permutation(len(train_cases))[: args.train])]
    dev_cases = load_cases(DEV)[: args.dev or None]
    x_train, y_train = features(reader, train_cases)
    x_dev, y_dev = features(reader, dev_cases)
    print(f"train {len(y_train)} questions ({int(y_train.sum())} answerable), dev {len(y_dev)} ({int(y_dev.sum())} answerable)")

    def dev_auc(score):
        return auc(score[y_dev == 1], score[y_dev == 0])

    print(f"{'signal':<34}{'dev AUC':>8}")
    print(f"{'margin alone (shipped)':<34}{dev_auc(x_dev[:, 0]):>8.3f}")
    for name, cols in (("[CLS] state head", slice(1, None)), ("[CLS] state + margin head", slice(0, None))):
        for l2 in (1e-3, 1e-2, 1e-1):
            w, b, (mean, scale) = fit_logistic(x_train[:, cols], y_train, l2)
            print(f"{name + f' (L2 {l2:g})':<34}{dev_auc(((x_dev[:, cols] - mean) / scale) @ w + b):>8.3f}")


if __name__ == "__main__":
    main()
