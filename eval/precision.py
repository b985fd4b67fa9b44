"""Reader precision trade-off: fp32 vs bf16 autocast vs dynamic int8, on CMRC 2018 dev and the article.

    python eval/precision.py [--limit N] [--precisions fp32 bf16 int8]
Prints reader-only F1 on CMRC dev (first N questions), end-to-end F1 on eval/questions.jsonl,
and the median forward time of one 384-token window for each precision.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.bench import floor_seconds  # noqa: E402
from eval.retrieval import load_questions  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.evaluate import load_cases, read_only, summarise  # noqa: E402
from qa.metrics import f1_score  # noqa: E402
from qa.reader import PRECISIONS, Reader  # noqa: E402

CMRC_DEV = ROOT.parent / "shared" / "qa-data" / "dev" / "cmrc2018_dev.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=500, help="CMRC dev questions (0: all 3,219)")
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS))
    args = parser.parse_args()
    cases = load_cases(CMRC_DEV)[: args.limit or None]
    questions = load_questions()
    assistant = Assistant()
    print(f"{'precision':<10}{'CMRC EM':>9}{'CMRC F1':>9}{'article F1':>11}{'window ms':>11}")
    for precision in args.precisions:
        assistant.reader = Reader(embedder=assistant.retriever.embedder, precision=precision)
        cmrc = summarise(read_only(cases, assistant.reader), retrieval=False)
        em, f1 = cmrc["em"], cmrc["f1"]
        article = 100 * statistics.fmean(f1_score(assistant.ask(q["question"]).answer, q["answers"]) for q in questions)
        print(f"{precision:<10}{em:>9.2f}{f1:>9.2f}{article:>11.2f}{1000 * floor_seconds(assistant):>11.1f}")


if __name__ == "__main__":
    main()
