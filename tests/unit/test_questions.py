import json
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "questions.jsonl"


def test_eval_set_is_well_formed_and_golds_are_in_the_article(article):
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    assert len({r["id"] for r in rows}) == len(rows)
    answerable = [r for r in rows if r["answers"]]
    assert len(answerable) >= 120 and len(rows) - len(answerable) >= 25
    for r in rows:
        assert r["question"].strip()
        for answer in r["answers"]:
            assert answer in article, (r["id"], answer)
