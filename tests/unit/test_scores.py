"""Scores and their comparison: AUC, the best threshold, the strict and shown views, the grades, the paired bootstrap."""

import json

import numpy as np
import pytest

from eval.compare import paired_difference


def test_auc_and_best_threshold():
    from qa.evaluation.runner import Case, Outcome
    from qa.evaluation.summary import auc, best_threshold

    assert auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert auc(np.array([0.5]), np.array([0.5])) == 0.5
    outcomes = [Outcome(Case("a", "q", ["甲"]), "甲", 0.9, "sure", 0.0), Outcome(Case("b", "q", ["乙"]), "丙", 0.3, "none", 0.0), Outcome(Case("u", "q", []), "丁", 0.5, "unsure", 0.0)]
    threshold, em, f1 = best_threshold(outcomes)
    assert 0.5 < threshold <= 0.9 and (em, f1) == (pytest.approx(66.67), pytest.approx(66.67))


def test_paired_difference_interval_brackets_the_gain():
    a = np.zeros(200)
    b = np.r_[np.ones(50), np.zeros(150)]  # B right on 50 more of 200 questions: +25 points
    d = paired_difference(a, b)
    assert d.mean == pytest.approx(25.0)
    assert 17 < d.low < 25 < d.high < 33
    same = paired_difference(b, b)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)


def test_a_set_that_names_its_sources_is_scored_per_source(tmp_path):
    from qa.evaluation.runner import Outcome, load_cases
    from qa.evaluation.summary import format_table, summarise

    rows = [
        {"id": "w1", "question": "q", "answers": ["甲"], "source": "web"},
        {"id": "w2", "question": "q", "answers": ["乙"], "source": "web"},
        {"id": "w3", "question": "q", "answers": ["丙"], "source": "web", "context": "丙在这里"},
        {"id": "t1", "question": "q", "answers": ["丁"], "source": "wiki"},
        {"id": "t2", "question": "q", "answers": [], "source": "wiki"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    cases = load_cases(path)
    assert [c.source for c in cases] == ["web"] * 3 + ["wiki"] * 2 and cases[2].context == "丙在这里"
    # right, wrong, unsure (and right); right, withheld
    answers = [("甲", 0.9, "sure"), ("戊", 0.8, "sure"), ("丙", 0.3, "unsure"), ("丁", 0.7, "sure"), ("己", 0.2, "none")]
    summary = summarise([Outcome(c, a, conf, grade, 0.0) for c, (a, conf, grade) in zip(cases, answers)], "strict", False)
    web, wiki = summary["sources"]["web"], summary["sources"]["wiki"]
    assert (web["right"], web["wrong"], web["abstained"], web["f1"], web["shown_f1"]) == (1, 1, 1, pytest.approx(33.33), pytest.approx(66.67))
    assert (web["sure"]["accuracy"], web["unsure"]["accuracy"], web["unanswerable_sure"]) == (0.5, 1.0, 0)
    assert (wiki["right"], wiki["abstained"], wiki["unanswerable_abstained"], wiki["f1"]) == (1, 0, "1/1", 100.0)
    assert web["best_f1"] == pytest.approx(66.67)  # answering down to 0.3 as well gets 丙 right
    assert any(line.startswith("web ") for line in format_table(summary))


def test_the_strict_and_shown_views_and_the_grades():
    from qa.evaluation.runner import Case, Outcome
    from qa.evaluation.summary import format_table, summarise

    outcomes = [
        Outcome(Case("a", "q", ["甲"]), "甲", 0.9, "sure", 0.0),
        Outcome(Case("b", "q", ["乙"]), "乙", 0.3, "unsure", 0.0),
        Outcome(Case("c", "q", ["丙"]), "戊", 0.2, "unsure", 0.0),
        Outcome(Case("d", "q", ["丁"]), "丁", 0.1, "none", 0.0),  # a right guess withheld
        Outcome(Case("u", "q", []), "己", 0.25, "unsure", 0.0),
        Outcome(Case("v", "q", []), "庚", 0.8, "sure", 0.0),
    ]
    summary = summarise(outcomes, "strict", False)
    assert (summary["answerable"]["f1"], summary["shown"]["answerable"]["f1"]) == (25.0, 50.0)
    assert (summary["unanswerable"]["f1"], summary["shown"]["unanswerable"]["f1"]) == (50.0, 0.0)
    grades = summary["grades"]
    assert grades["sure"] == {"n": 2, "answerable": 1, "right": 1, "accuracy": 0.5}
    assert grades["unsure"] == {"n": 3, "answerable": 2, "right": 1, "accuracy": 0.3333}
    assert grades["none"] == {"n": 1, "answerable": 1, "right": 1, "accuracy": 1.0}
    na = summary["no_answer"]
    assert (na["has_ans_f1"], na["no_ans_accuracy"], na["shown"]["has_ans_f1"], na["shown"]["no_ans_accuracy"]) == (25.0, 50.0, 50.0, 0.0)
    table = "\n".join(format_table(summary))
    assert "grades: sure 2 (50.0 % right), unsure 3 (33.3 % right), none 1" in table and "shown: HasAns EM 50.0 F1 50.0, NoAns accuracy 0.0" in table
    assert summarise(outcomes, "all", False)["answerable"]["f1"] == 75.0  # reader-mode benchmarks: every best answer


def test_one_source_gets_no_source_table():
    from qa.evaluation.runner import Case, Outcome
    from qa.evaluation.summary import summarise

    outcomes = [Outcome(Case("a", "q", ["甲"], source="cmrc"), "甲", 0.9, "sure", 0.0)]
    assert "sources" not in summarise(outcomes, "strict", False)


def test_why_and_how_questions_are_also_scored_as_the_why_how_set_is():
    from qa.evaluation.runner import Case, Outcome
    from qa.evaluation.summary import format_table, summarise

    reason = "花瓶在窑内发生氧化作用，使花瓶变成红橙色。"
    outcomes = [
        Outcome(Case("w1", "花瓶为什么会变成红橙色？", ["氧化作用"]), reason, 0.9, "sure", 0.0, phrase="氧化作用"),  # the sentence holds the gold
        Outcome(Case("w2", "花瓶是如何烧制的？", ["窑内"]), "用电炉。", 0.9, "sure", 0.0),
        Outcome(Case("w3", "花瓶为什么贵？", ["稀有"]), "稀有" + "。" * 150, 0.9, "sure", 0.0),  # over 150 characters
        Outcome(Case("f1", "花瓶是什么颜色？", ["红橙色"]), "红橙色", 0.9, "sure", 0.0),  # a factoid: not counted
        Outcome(Case("u1", "花瓶为什么会碎？", []), "", 0.1, "none", 0.0),  # unanswerable: not counted
    ]
    summary = summarise(outcomes, "strict", False)
    # as spans: w1's phrase is exact, w2's answer (no phrase) is wrong, w3's is 稀有 once the metric drops its punctuation
    assert summary["sentence_questions"] == {"n": 3, "hold_gold": 1, "span_em": 66.67, "span_f1": 66.67}
    assert "why/how/what-is questions: 3; answers holding a gold answer within 150 characters: 1 (33.3 %); their spans alone: EM 66.67, F1 66.67" in "\n".join(format_table(summary))
    assert "sentence_questions" not in summarise(outcomes[3:4], "strict", False)
