"""How many gold answers each answer-form rule would reject (it must be about none).

    python -m eval.answer_types [FILE ...]
Default files: CMRC 2018 dev, squad2_zh dev (answerable questions) and the article set.
For each question type of :data:`qa.answer_form.QUESTION_TYPES`: the questions of that type,
and how many of them have a gold answer the rule turns away (with the first few shown).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.answer_form import QUESTION_TYPES
from qa.evaluate import load_cases

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "qa-data" / "dev"
DEFAULT_FILES = (DEV / "cmrc2018_dev.json", DEV / "squad2_zh_dev.json", ROOT / "eval" / "questions.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[f for f in DEFAULT_FILES if f.is_file()])
    args = parser.parse_args()
    print(f"{'file':<22}{'type':<10}{'questions':>10}{'golds rejected':>16}")
    for path in args.files:
        cases = [c for c in load_cases(path) if c.golds]
        for kind in QUESTION_TYPES:
            asked = [c for c in cases if kind.of(c.question)]
            rejected = [c for c in asked if not any(kind.admits(g) for g in c.golds)]  # every gold turned away
            print(f"{path.name:<22}{kind.name:<10}{len(asked):>10}{len(rejected):>16}")
            for c in rejected[:3]:
                print(f"    {c.question} -> {' | '.join(c.golds)}")


if __name__ == "__main__":
    main()
