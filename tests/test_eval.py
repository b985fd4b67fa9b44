import json
import os
import subprocess
import sys

import numpy as np
import pytest

from eval.compare import paired_difference
from tests.conftest import ROOT, run_cli

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


def test_eval_squad2_file_reports_no_answer_metrics(tmp_path, squad_file):
    data = json.loads(squad_file.read_text(encoding="utf-8"))
    data["data"][0]["paragraphs"][0]["qas"].append(
        {"id": "u1", "question": "长安汽车2025年营业收入是多少？", "answers": [], "is_impossible": True})
    squad2 = tmp_path / "squad2.json"
    squad2.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    preds, summary = tmp_path / "p.json", tmp_path / "s.json"
    result = run_cli("eval", str(squad2), "--mode", "reader", "--predictions", str(preds), "--json", str(summary))
    assert result.returncode == 0, result.stderr
    predictions = json.loads(preds.read_text(encoding="utf-8"))
    assert predictions == {"q1": "100万辆", "q2": "市科技局", "u1": ""}  # a count is not revenue: abstains
    s = json.loads(summary.read_text(encoding="utf-8"))
    na = s["no_answer"]
    assert na["has_ans_f1"] == 100.0 and na["no_ans_accuracy"] == 100.0 and s["f1"] == 100.0
    assert na["auc"] == 1.0 and na["best_f1"] == 100.0
    assert "NoAns accuracy" in result.stdout and "questions/s" in result.stdout


def test_auc_and_best_threshold():
    from qa.evaluate import Case, Outcome, auc, best_threshold

    assert auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert auc(np.array([0.5]), np.array([0.5])) == 0.5
    outcomes = [Outcome(Case("a", "q", ["甲"]), "甲", 0.9, 0.0), Outcome(Case("b", "q", ["乙"]), "丙", 0.3, 0.0), Outcome(Case("u", "q", []), "丁", 0.5, 0.0)]
    threshold, em, f1 = best_threshold(outcomes)
    assert 0.5 < threshold <= 0.9 and (em, f1) == (pytest.approx(66.67), pytest.approx(66.67))


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


def test_paired_difference_interval_brackets_the_gain():
    a = np.zeros(200)
    b = np.r_[np.ones(50), np.zeros(150)]  # B right on 50 more of 200 questions: +25 points
    d = paired_difference(a, b)
    assert d.mean == pytest.approx(25.0)
    assert 17 < d.low < 25 < d.high < 33
    same = paired_difference(b, b)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)


def test_compare_cli(tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "a", "question": "销量突破了多少？", "answers": ["100万辆"]}, {"id": "u", "question": "出口了多少辆？", "answers": []}]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps({"a": "100万", "u": "5辆"}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"a": "100万辆", "u": ""}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "short.json").write_text(json.dumps({"a": "100万辆"}, ensure_ascii=False), encoding="utf-8")

    def compare(b: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "eval.compare", str(questions), str(tmp_path / "a.json"), str(tmp_path / b)]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8"})

    result = compare("b.json")
    assert result.returncode == 0, result.stderr
    lines = {tuple(line.split()[:3]): line.split() for line in result.stdout.splitlines()[1:]}
    assert lines[("all", "2", "EM")][3:6] == ["0.00", "100.00", "+100.00"]
    assert lines[("unanswerable", "1", "F1")][-3:] == ["1", "1", "0"]  # changed, better, worse
    missing = compare("short.json")
    assert missing.returncode == 2 and "no prediction for 1 questions (first: u)" in missing.stderr
