"""The answer policy on made-up spans: first admissible span, judged in its passage, threshold."""

import math

import pytest

from qa.answering.calibration import Calibration
from qa.answering.policy import AnswerPolicy
from qa.types import Span

CALIBRATION = Calibration({"margin": 1.0}, bias=0.0, abstain_below=0.5)  # confidence = sigmoid(margin)
PASSAGES = ["全市产业创新综合体总数达18家。", "产业创新综合体"]


def test_the_first_admissible_span_is_judged_in_its_own_passage():
    policy = AnswerPolicy.load(CALIBRATION)
    spans = [Span("产业创新综合体", 1, 0, 7, 3.0), Span("18家", 0, 12, 15, 1.0)]
    judged = policy.judge("全市产业创新综合体有多少家？", spans, PASSAGES)  # how many: a numeral
    assert judged.span is spans[1] and judged.signals.margin == 1.0
    assert judged.signals.support == pytest.approx(1.0) and judged.confidence == pytest.approx(0.7311, abs=1e-4)
    assert policy.judge("有多少家？", spans[:1], PASSAGES) is None


def test_the_threshold_and_its_per_call_override():
    policy = AnswerPolicy.load(CALIBRATION)
    unsure = policy.judge("是什么？", [Span("综合体", 1, 4, 7, -1.0)], PASSAGES)  # confidence 0.27
    assert policy.abstain_below == 0.5 and policy.grade(unsure) == "none"
    assert policy.grade(unsure, abstain_below=0.0) == "unsure" and policy.grade(None, abstain_below=0.0) == "none"
    assert AnswerPolicy.load(CALIBRATION, abstain_below=0.1).grade(unsure) == "unsure"


GRADED = Calibration({"margin": 1.0}, bias=0.0, abstain_below=0.2, sure_from=0.6, no_answer_margin=-3.0)


@pytest.mark.parametrize(("margin", "grade"), [
    (2.0, "sure"),  # confidence 0.88
    (0.41, "sure"),  # 0.601: just at sure_from
    (0.0, "unsure"),  # 0.5
    (-1.3, "unsure"),  # 0.214
    (-1.5, "none"),  # 0.182: below the lower threshold
    (-3.5, "none"),  # the reader rates "no answer" clearly above the span
])
def test_two_thresholds_grade_the_confidence(margin, grade):
    policy = AnswerPolicy.load(GRADED)
    judged = policy.judge("是什么？", [Span("综合体", 1, 4, 7, margin)], PASSAGES)
    assert policy.grade(judged) == grade
    assert policy.grade(None) == "none"


def test_a_per_call_lower_threshold_never_lowers_sure_and_never_lifts_a_clear_no_answer():
    policy = AnswerPolicy.load(GRADED)
    middling = policy.judge("是什么？", [Span("综合体", 1, 4, 7, 0.0)], PASSAGES)  # 0.5
    assert policy.grade(middling, abstain_below=0.0) == "unsure"  # sure still needs 0.6
    assert policy.grade(middling, abstain_below=0.7) == "none"  # a stricter call withholds it
    assert policy.grade(policy.judge("是什么？", [Span("综合体", 1, 4, 7, 0.9)], PASSAGES), abstain_below=0.7) == "sure"  # 0.71
    assert policy.grade(policy.judge("是什么？", [Span("综合体", 1, 4, 7, -4.0)], PASSAGES), abstain_below=0.0) == "none"


def test_the_calibration_file_carries_the_grades(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text('{"weights": {"margin": 1.0}, "bias": 0.0, "grades": {"sure_from": 0.6, "unsure_from": 0.2, "no_answer_margin": -3.0}}')
    loaded = Calibration.load(path)
    assert (loaded.sure_from, loaded.abstain_below, loaded.no_answer_margin) == (0.6, 0.2, -3.0)


def test_retrieval_ranks_and_length_reach_the_confidence():
    from qa.types import Hit

    calibration = Calibration({"passage_rank": 1.0, "bm25_rank": 2.0, "dense_rank": 0.5, "length": 1.0}, bias=-1.0)
    spans = [Span("18家", 1, 12, 15, 2.0)]
    passages = [PASSAGES[1], PASSAGES[0]]  # the answer is in the second passage read
    hits = [Hit(passages[0], "d", 1, 0, 7, 0.03, None, 1), Hit(passages[1], "d", 2, 7, 22, 0.02, 4, None)]
    judged = AnswerPolicy.load(calibration).judge("全市产业创新综合体有多少家？", spans, passages, hits)
    s = judged.signals
    assert (s.passage_rank, s.dense_rank, s.bm25_rank, s.length) == (2, 4, None, 3)
    assert s.features() == pytest.approx({"margin": 2.0, "support": 1.0, "passage_rank": 0.5, "dense_rank": 0.25, "bm25_rank": 0.0, "length": math.log(4)})
    assert judged.confidence == pytest.approx(1 / (1 + math.exp(-(0.5 + 0.125 + math.log(4) - 1.0))))
    alone = AnswerPolicy.load(calibration).judge("全市产业创新综合体有多少家？", [Span("18家", 0, 12, 15, 2.0)], PASSAGES[:1])
    assert (alone.signals.passage_rank, alone.signals.dense_rank, alone.signals.bm25_rank) == (1, 1, 1)  # its own paragraph


def test_a_calibration_file_with_an_unknown_feature_is_refused(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text('{"weights": {"margin": 1.0, "colour": 2.0}, "bias": 0.0, "grades": {"sure_from": 0.5, "unsure_from": 0.5, "no_answer_margin": -9}}')
    with pytest.raises(ValueError, match="colour"):
        Calibration.load(path)


def test_among_near_identical_lines_the_span_whose_sentence_names_the_questions_number_wins():
    lines = "第887号水电站的站长是王887号。第888号水电站的站长是王888号。第889号水电站的站长是王889号。"
    spans = [Span("王889号", 0, lines.index("王889号"), lines.index("王889号") + 5, 3.0), Span("王888号", 0, lines.index("王888号"), lines.index("王888号") + 5, 2.0)]
    judged = AnswerPolicy.load(CALIBRATION).judge("第888号水电站的站长是谁？", spans, [lines])
    assert judged.span.text == "王888号"
    assert AnswerPolicy.load(CALIBRATION).judge("站长是谁？", spans, [lines]).span.text == "王889号"  # no number: the reader's order
    assert AnswerPolicy.load(CALIBRATION).judge("第123号水电站的站长是谁？", spans, [lines]).span.text == "王889号"  # none names it
