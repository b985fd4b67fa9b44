"""When may the second reading be skipped? EM/F1 if readings whose best span leads by more than G are kept.

    python -m eval.settled [--limit N] [--gaps 1 2 3 4]
Reads the answerable questions of CMRC 2018 dev and squad2_zh dev reader-only (each against
its own paragraph, 32 a batch), once and again in their sentences for every question, then
scores, for each gap G, the answers of a reader that keeps its first reading when the best
span's margin leads the next span's by more than G (:data:`qa.reader.SETTLED_GAP`), per half
of each file (choose on the first, check on the second) and in all.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.answer_form import admits
from qa.evaluate import load_cases
from qa.metrics import exact_match, f1_score
from qa.reader import Reader, Span

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "qa-data" / "dev"


def read_twice(reader: Reader, cases) -> list[tuple[list[Span], float]]:
    """Per question: its spans with both margins, and the lead of its best chunk margin over the next."""
    rows = []
    for lo in tqdm(range(0, len(cases), 32), file=sys.stderr, mininterval=30):
        items = [(c.question, [c.context]) for c in cases[lo : lo + 32]]
        for reading in reader.read_sentences(items, reader.run_batch(items, reread=False)):
            scores = sorted((s.score for s in reading.spans), reverse=True) + [-math.inf, -math.inf]
            rows.append((reading.spans, scores[0] - scores[1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N answerable questions of each file")
    parser.add_argument("--gaps", type=float, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()
    reader = Reader(precision="fp32")
    reader.settled_gap = math.inf  # read every question twice; the gaps are applied below
    for name in ("cmrc2018_dev", "squad2_zh_dev"):
        cases = [c for c in load_cases(DATA / f"{name}.json") if c.golds][: args.limit]
        rows = read_twice(reader, cases)

        def best(spans: list[Span], key, question: str) -> str:
            return max((s for s in spans if admits(question, s.text)), key=key, default=Span("", 0, 0, 0, 0.0)).text

        once = [best(spans, lambda s: s.score, c.question) for c, (spans, _) in zip(cases, rows)]
        twice = [best(spans, lambda s: s.rank_score, c.question) for c, (spans, _) in zip(cases, rows)]
        leads = np.array([lead for _, lead in rows])
        half = len(cases) // 2
        print(f"== {name}: {len(cases)} answerable questions")
        for part, lo, hi in (("first half", 0, half), ("second half", half, len(cases)), ("all", 0, len(cases))):
            golds = [c.golds for c in cases[lo:hi]]

            def score(answers: list[str]) -> str:
                return f"EM {100 * np.mean([exact_match(a, g) for a, g in zip(answers, golds)]):.2f} F1 {100 * np.mean([f1_score(a, g) for a, g in zip(answers, golds)]):.2f}"

            print(f"  {part}: read once {score(once[lo:hi])}, twice {score(twice[lo:hi])}")
            for gap in args.gaps:
                kept = [o if lead > gap else t for o, t, lead in zip(once[lo:hi], twice[lo:hi], leads[lo:hi])]
                changed = sum(k != t for k, t in zip(kept, twice[lo:hi]))
                print(f"    settled above {gap:g}: {100 * np.mean(leads[lo:hi] > gap):.1f} % not read again, {score(kept)}, {changed} answers changed")


if __name__ == "__main__":
    main()
