import pytest

from qa.evaluation.metrics import exact_match, f1_score, segment


def test_worked_case_from_the_data_readme():
    assert round(100 * f1_score("一二X三四", ["一二三四"]), 1) == 44.4


def test_segmentation_rules():
    assert segment(" Hello 1987年，47.9亿元 ") == ["hello", "1987", "年", "47.9", "亿", "元"]


@pytest.mark.parametrize("pred,golds,em,f1", [
    ("100万辆", ["100万辆"], 1, 1),
    ("“100万辆”。", ["100万辆"], 1, 1),      # listed punctuation is ignored
    ("突破100万辆", ["100万辆"], 0, 2 * (3 / 5) * 1 / (3 / 5 + 1)),
    ("", ["100万辆"], 0, 0),
    ("两江新区", ["西部科学城", "两江新区"], 1, 1),  # best over the golds
    ("", [], 1, 1),                               # abstaining on an unanswerable question
    ("廖平", [], 0, 0),
])
def test_em_and_f1(pred, golds, em, f1):
    assert exact_match(pred, golds) == em
    assert f1_score(pred, golds) == pytest.approx(f1)


def test_f1_uses_the_longest_contiguous_run():
    # common characters that are not contiguous do not add up
    assert f1_score("一X二", ["一二"]) == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_a_prediction_holds_a_phrase_as_em_compares_them():
    from qa.evaluation.metrics import holds

    assert holds("重庆把创新资源物理性“搬到”产业链身边。", ["物理性搬到产业链身边"])  # quotes aside
    assert holds("SDA", ["sda"]) and not holds("创新", ["产业链", ""]) and not holds("", ["甲"])
