"""SQuAD-format QA data (CMRC 2018, DRCD; SQuAD 2.0 with unanswerable questions): loading into flat examples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    """One question over one context, with its gold answers (text, character start)."""

    id: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]
    impossible: bool = False  # SQuAD 2.0 ``is_impossible``: the context does not answer it


def load_squad(path: str | Path) -> list[Example]:
    """Flatten ``data → paragraphs → qas`` of a SQuAD v1.1 or v2.0 JSON file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    examples = []
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = tuple((a["text"], int(a["answer_start"])) for a in qa.get("answers", []))
                impossible = bool(qa.get("is_impossible")) or not answers
                examples.append(Example(str(qa["id"]), qa["question"], context, () if impossible else answers, impossible))
    return examples


def squad_paragraphs(path: str | Path) -> list[str]:
    """The distinct contexts of a SQuAD file, in file order."""
    return list(dict.fromkeys(example.context for example in load_squad(path)))
