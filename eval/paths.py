"""Where the evaluation tools find their data: the article's question set in this folder, and the
QA data sets (``--data DIR``, else ``$QA_DATA``, else ``../shared/qa-data`` beside the checkout)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"  # the article's held-out question set


def add_data_arg(parser: argparse.ArgumentParser) -> None:
    """``--data DIR``: the folder with ``dev/`` and ``train/`` (see its README)."""
    default = Path(os.environ.get("QA_DATA") or ROOT.parent / "shared" / "qa-data")
    parser.add_argument("--data", type=Path, default=default, help=f"QA data folder (default: $QA_DATA, else {default})")
