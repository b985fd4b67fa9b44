"""What each span-edge rule would do to stored predictions: changed, better, worse, F1 and EM.

    python -m eval.edges DATA.json=PREDICTIONS.json [...]
``PREDICTIONS.json`` maps question ids to answers (``qa eval --predictions`` or
``eval.calibrate --predictions`` writes them); ``DATA.json`` is the SQuAD file they answer.
Only answered, answerable questions count. Each candidate rule is applied to the answer text
alone (a bracket is closed from the question's own context); the shipped ones live in
:func:`qa.answer_form.shape_span`, the rest were measured and left out.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from qa.answer_form import drop_tail
from qa.evaluate import load_cases
from qa.metrics import exact_match, f1_score

BRACKETS = {"（": "）", "(": ")", "《": "》", "“": "”", "「": "」"}


def close_bracket(answer: str, context: str) -> str:
    """Extend an answer with an unclosed bracket to its partner, up to 12 characters on."""
    start = context.find(answer)
    end = start + len(answer)
    for opening, closing in BRACKETS.items():
        if start >= 0 and answer.count(opening) > answer.count(closing):
            found = context.find(closing, end, end + 12)
            if found >= 0 and not re.search(r"[。！？；\n]", context[end:found]):
                return context[start : found + 1]
    return answer


CANDIDATES = {
    "dropped tail (shipped)": lambda answer, context: answer[: drop_tail(answer, 0, len(answer))],
    "bare 等": lambda answer, context: re.sub(r"(?<=..)等$", "", answer),
    "cut at open bracket": lambda answer, context: re.sub(r"(?<=.)[（(][^）)]*$", "", answer),
    "close bracket": close_bracket,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="DATA.json=PREDICTIONS.json")
    args = parser.parse_args()
    for pair in args.pairs:
        data, predictions = (Path(p) for p in pair.split("=", 1))
        answers = json.loads(predictions.read_text(encoding="utf-8"))
        cases = [c for c in load_cases(data) if c.golds and answers.get(c.id)]
        print(f"== {data.name}, {predictions}: {len(cases)} answered answerable questions")
        for name, rule in CANDIDATES.items():
            changed = [(c, answers[c.id], rule(answers[c.id], c.context or "")) for c in cases]
            changed = [(c, a, b) for c, a, b in changed if a != b]
            gains = [f1_score(b, c.golds) - f1_score(a, c.golds) for c, a, b in changed]
            em = sum(exact_match(b, c.golds) - exact_match(a, c.golds) for c, a, b in changed)
            print(
                f"{name:<24} changed {len(changed):>4}  better {sum(g > 0 for g in gains):>3}  worse {sum(g < 0 for g in gains):>3}"
                f"  F1 {100 * sum(gains) / max(1, len(cases)):+.3f}  EM {100 * em / max(1, len(cases)):+.3f} ({em:+.0f})"
            )


if __name__ == "__main__":
    main()
