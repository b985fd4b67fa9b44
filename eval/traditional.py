"""The article question set asked in Traditional characters, against the same set in Simplified.

    python -m eval.traditional [--predictions DIR]
Each question of eval/questions.jsonl is converted with OpenCC (s2t, the library the assistant
converts back with) and answered end to end; prints EM/F1 and abstention for both sets.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from qa.assistant import Assistant
from qa.evaluate import answer_all, load_cases, predictions, summarise
from qa.script import to_traditional

QUESTIONS = Path(__file__).with_name("questions.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=Path, help="write simplified.json and traditional.json here")
    args = parser.parse_args()
    assistant = Assistant()
    simplified = load_cases(QUESTIONS)
    traditional = [replace(c, question=to_traditional(c.question)) for c in simplified]
    changed = sum(a.question != b.question for a, b in zip(simplified, traditional))
    print(f"{changed} of {len(simplified)} questions change under s2t")
    print(f"{'set':<12}{'EM':>8}{'F1':>8}{'answerable F1':>15}{'unanswerable abstained':>24}")
    for name, cases in (("simplified", simplified), ("traditional", traditional)):
        outcomes = answer_all(cases, assistant, None)
        s = summarise(outcomes, assistant.abstain_below, False)
        print(f"{name:<12}{s['em']:>8.2f}{s['f1']:>8.2f}{s['answerable']['f1']:>15.2f}{s['abstention']['recall']:>24}")
        if args.predictions:
            args.predictions.mkdir(parents=True, exist_ok=True)
            (args.predictions / f"{name}.json").write_text(json.dumps(predictions(outcomes, s["threshold"]), ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
