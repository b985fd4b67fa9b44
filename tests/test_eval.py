import json

import pytest

from tests.conftest import run_cli

SQUAD = {
    "data": [
        {"paragraphs": [
            {"context": "2025年12月20日，长安汽车宣布，旗下新能源汽车年销量突破100万辆。这一成就源于不断的创新投入。",
             "qas": [{"id": "q1", "question": "长安汽车新能源汽车年销量突破了多少？", "answers": [{"text": "100万辆", "answer_start": 31}]}]},
            {"context": "1月6日，重庆信息与智慧医学研究院正式启用。这个研究院由市科技局举办，重庆医科大学与渝中区共同建设。",
             "qas": [{"id": "q2", "question": "重庆信息与智慧医学研究院由谁举办？", "answers": [{"text": "市科技局", "answer_start": 28}]}]},
        ]}
    ]
}


@pytest.fixture
def squad_file(tmp_path):
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["reader", "open"])
def test_eval_squad_file(tmp_path, squad_file, mode):
    preds, summary, report = tmp_path / "p.json", tmp_path / "s.json", tmp_path / "r.md"
    result = run_cli("eval", str(squad_file), "--mode", mode, "--predictions", str(preds), "--json", str(summary), "--report", str(report))
    assert result.returncode == 0, result.stderr
    predictions = json.loads(preds.read_text(encoding="utf-8"))
    assert predictions == {"q1": "100万辆", "q2": "市科技局"}
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["n"] == 2 and data["em"] == 100.0 and data["f1"] == 100.0
    assert ("retrieval" in data) == (mode == "open")
    assert "EM" in result.stdout and "F1" in result.stdout
    assert report.read_text(encoding="utf-8").startswith("# Evaluation report")


def test_eval_question_set_with_unanswerable(tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "question": "长安汽车新能源汽车年销量突破了多少？", "answers": ["100万辆"]},
        {"id": "u", "question": "长安汽车2025年新能源汽车出口了多少辆？", "answers": []},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    summary, preds = tmp_path / "s.json", tmp_path / "p.json"
    result = run_cli("eval", str(questions), "--json", str(summary), "--predictions", str(preds))
    assert result.returncode == 0, result.stderr
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["answerable"]["n"] == 1 and data["unanswerable"]["n"] == 1
    assert set(json.loads(preds.read_text(encoding="utf-8"))) == {"a", "u"}
    assert {"recall@1", "recall@3", "recall@5", "mrr"} <= set(data["retrieval"])
    assert {"p50", "p95"} == set(data["latency_ms"])
