"""Reader precision trade-off: fp32, bf16 and dynamic int8 on CMRC 2018 dev, the article and one window.

    python -m eval.precision [--limit N] [--precisions fp32 bf16 int8]
Prints reader-only F1 on CMRC dev (first N questions), end-to-end F1 on eval/questions.jsonl,
and the median forward time of one 384-token window, for each precision, on this CPU
(bf16 is fast only where the CPU has AMX; ``qa info`` says what it has).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from eval.bench import window_seconds
from qa.assistant import Assistant
from qa.confidence import Calibration
from qa.cpu import PRECISIONS, plan
from qa.evaluate import load_cases, read_only, summarise
from qa.metrics import f1_score
from qa.reader import Reader

ROOT = Path(__file__).resolve().parent.parent
CMRC_DEV = ROOT.parent / "shared" / "qa-data" / "dev" / "cmrc2018_dev.json"
QUESTIONS = ROOT / "eval" / "questions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=500, help="CMRC dev questions (0: all 3,219)")
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS))
    args = parser.parse_args()
    cases = load_cases(CMRC_DEV)[: args.limit or None]
    questions = load_cases(QUESTIONS)
    base = Assistant.from_corpus()
    print(f"{plan().model}; flags {' '.join(plan().flags)}")
    print(f"{'precision':<10}{'CMRC EM':>9}{'CMRC F1':>9}{'article F1':>11}{'window ms':>11}")
    for precision in args.precisions:
        reader = Reader(embedder=base.retriever.embedder, precision=precision)
        assistant = Assistant(base.retriever, reader)
        cmrc = summarise(read_only(cases, reader, Calibration.load()), 0.0, False)
        article = 100 * statistics.fmean(f1_score(assistant.ask(c.question).answer, c.golds) for c in questions)
        print(f"{precision:<10}{cmrc['em']:>9.2f}{cmrc['f1']:>9.2f}{article:>11.2f}{1000 * window_seconds(reader.logits, reader.tokenizer, base.retriever.documents[0].text):>11.1f}")


if __name__ == "__main__":
    main()
