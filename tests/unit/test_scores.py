"""Scores and their comparison: AUC, the best threshold, the paired bootstrap."""

import numpy as np
import pytest

from eval.compare import paired_difference


def test_auc_and_best_threshold():
    from qa.evaluate import Case, Outcome
    from qa.scores import auc, best_threshold

    assert auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert auc(np.array([0.5]), np.array([0.5])) == 0.5
    outcomes = [Outcome(Case("a", "q", ["甲"]), "甲", 0.9, 0.0), Outcome(Case("b", "q", ["乙"]), "丙", 0.3, 0.0), Outcome(Case("u", "q", []), "丁", 0.5, 0.0)]
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
