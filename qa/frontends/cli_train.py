"""``qa train-reader``: fine-tune the reader on SQuAD-format data (its options and command)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _repeat(text: str) -> tuple[str, int]:
    name, _, times = text.partition("=")
    if not times.isdigit() or int(times) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=N with N >= 1, not {text!r}")
    return name, int(times)


def cmd_train_reader(args) -> None:
    from qa.training.train import TrainConfig, train

    cfg = TrainConfig(
        epochs=args.epochs,
        total_steps=args.total_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        max_length=args.max_length,
        negative_rate=args.negative_rate,
        distractor_rate=args.distractor_rate,
        removal_rate=args.removal_rate,
        threads=args.threads or args.settings.threads,
        oversample=dict(args.oversample or []),
        answerable_weight=args.answerable_weight,
        **({"bf16": args.precision == "bf16"} if args.precision else {}),
    )
    overlay = train(args.train, args.out, cfg, args.settings.cache, init=args.init, max_steps=args.max_steps)
    print(f"trained weights: {overlay}")
    if args.dev:
        from qa.evaluation.runner import evaluate_reader

        summary = evaluate_reader(args.dev, overlay)
        print(json.dumps(summary, ensure_ascii=False))



def add_train_parser(sub) -> None:
    p = sub.add_parser("train-reader", help="fine-tune the reader on SQuAD-format data")
    p.add_argument("--train", nargs="+", required=True, metavar="FILE")
    p.add_argument("--dev", metavar="FILE", help="SQuAD file to score the result on")
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints and the exported weights")
    p.add_argument("--init", type=Path, help="start from these weights (e.g. qa/weights/reader.safetensors)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--total-steps", type=int, help="length of the LR schedule (overrides --epochs; may be raised when resuming)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--negative-rate", type=float, default=0.2, help="share of answerless windows kept (CLS target)")
    p.add_argument("--distractor-rate", type=float, default=0.0, help="share of questions also paired with a BM25-retrieved other context (CLS target)")
    p.add_argument("--removal-rate", type=float, default=0.0, help="share of questions also paired with their context minus the answer's sentences (CLS target)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps (resume later)")
    p.add_argument("--threads", type=int, help="torch threads")
    p.add_argument("--oversample", type=_repeat, action="append", metavar="NAME=N", help="use the questions of training file NAME N times (repeatable), to set the mix")
    p.add_argument("--precision", choices=("fp32", "bf16"), help="autocast precision (default: bf16 only on a CPU with native bf16)")
    p.add_argument("--answerable-weight", type=float, default=0.0, help="> 0: also train an answerability head on the [CLS] state (loss weight); unanswerable questions then teach only that head")
    p.set_defaults(func=cmd_train_reader)
