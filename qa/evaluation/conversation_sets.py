"""Evaluation of the conversation sets: follow-up dialogues and why/how questions (``qa eval``).

- Dialogues (``eval/dialogues.jsonl``: ``{id, turns: [{question, answers, ambiguous_alone?}]}``):
  every turn is asked with the earlier turns as history, and every later turn again alone. A
  turn is right when its answer scores F1 >= 0.5 against a gold answer (the calibration's
  "right"); EM and F1 are reported beside.
- Why/how questions (``eval/why_how.jsonl``: ``{id, question, key_phrases}``): an answer holds
  a key phrase when one lies inside it and the answer is at most 150 characters long.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.evaluation.metrics import exact_match, f1_score, holds
from qa.evaluation.summary import rule_counts, rules_line
from qa.settings import SENTENCE_ANSWER_CHARS

RIGHT_F1 = 0.5


def kind_of(path: Path) -> str | None:
    """``dialogues`` or ``why_how`` for a conversation set, ``None`` for any other file."""
    if Path(path).suffix != ".jsonl":
        return None
    first = next((json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()), {})
    return "dialogues" if "turns" in first else "why_how" if "key_phrases" in first else None


def _rows(path: Path, limit: int | None) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()][:limit]


def _scores(pairs: list[tuple[str, list[str]]]) -> dict:
    f1 = np.array([f1_score(answer, golds) for answer, golds in pairs])
    em = np.array([exact_match(answer, golds) for answer, golds in pairs])
    n = len(pairs)
    return {"n": n, "right": int((f1 >= RIGHT_F1).sum()), "right_rate": round(float((f1 >= RIGHT_F1).mean()), 4) if n else None,
            "em": round(100 * float(em.mean()), 2) if n else None, "f1": round(100 * float(f1.mean()), 2) if n else None}


def evaluate_dialogues(path: Path, assistant, limit: int | None = None) -> tuple[dict, list[dict]]:
    """Scores of first turns, of later turns with history and alone, and of the later turns
    that are ambiguous alone; and one row per turn (question, answers, how it was understood)."""
    rows = []
    for dialogue in tqdm(_rows(path, limit), desc="dialogues", file=sys.stderr, mininterval=5):
        history = []
        for i, turn in enumerate(dialogue["turns"]):
            answer = assistant.ask(turn["question"], history=history)
            history.append(answer)
            alone = assistant.ask(turn["question"]).answer if i else answer.answer
            rows.append({"id": f"{dialogue['id']}-{i}", "turn": i, "question": turn["question"], "golds": turn["answers"],
                         "ambiguous_alone": bool(turn.get("ambiguous_alone")), "answer": answer.answer, "alone": alone,
                         "understood_as": answer.understood_as, "rules": list(answer.rules)})
    later = [r for r in rows if r["turn"]]
    ambiguous = [r for r in later if r["ambiguous_alone"]]
    summary = {
        "dialogues": len({r["id"].rsplit("-", 1)[0] for r in rows}),
        "first_turns": _scores([(r["answer"], r["golds"]) for r in rows if not r["turn"]]),
        "later_with_history": _scores([(r["answer"], r["golds"]) for r in later]),
        "later_alone": _scores([(r["alone"], r["golds"]) for r in later]),
        "ambiguous_with_history": _scores([(r["answer"], r["golds"]) for r in ambiguous]),
        "ambiguous_alone": _scores([(r["alone"], r["golds"]) for r in ambiguous]),
        "rules": rule_counts(r["rules"] for r in rows),
    }
    return summary, rows


def evaluate_why_how(path: Path, assistant, limit: int | None = None) -> tuple[dict, list[dict]]:
    """How many answers hold a key phrase within :data:`SENTENCE_ANSWER_CHARS` characters; one row per question."""
    rows = []
    for case in tqdm(_rows(path, limit), desc="why/how", file=sys.stderr, mininterval=5):
        answer = assistant.ask(case["question"])
        held = len(answer.answer) <= SENTENCE_ANSWER_CHARS and holds(answer.answer, case["key_phrases"])
        rows.append({"id": case["id"], "question": case["question"], "answer": answer.answer, "kind": answer.kind, "holds_key_phrase": held, "rules": list(answer.rules)})
    n = len(rows)
    summary = {
        "n": n,
        "holds_key_phrase": sum(r["holds_key_phrase"] for r in rows),
        "holds_rate": round(sum(r["holds_key_phrase"] for r in rows) / n, 4) if n else None,
        "sentence_answers": sum(r["kind"] == "sentence" for r in rows),
        "abstained": sum(not r["answer"] for r in rows),
        "rules": rule_counts(r["rules"] for r in rows),
    }
    return summary, rows


def format_conversation(kind: str, summary: dict) -> list[str]:
    """The printed summary of a conversation set."""
    if kind == "why_how":
        return [f"why/how questions: {summary['n']}; answers holding a key phrase within {SENTENCE_ANSWER_CHARS} characters: "
                f"{summary['holds_key_phrase']} ({100 * summary['holds_rate']:.1f} %); sentence answers {summary['sentence_answers']}, abstained {summary['abstained']}", rules_line(summary["rules"])]
    lines = [f"dialogues: {summary['dialogues']}", f"{'':<24}{'n':>4}{'right':>7}{'rate':>8}{'EM':>8}{'F1':>8}"]
    for name in ("first_turns", "later_with_history", "later_alone", "ambiguous_with_history", "ambiguous_alone"):
        s = summary[name]
        if s["n"]:
            lines.append(f"{name.replace('_', ' '):<24}{s['n']:>4}{s['right']:>7}{100 * s['right_rate']:>7.1f}%{s['em']:>8.2f}{s['f1']:>8.2f}")
    return [*lines, rules_line(summary["rules"])]
