"""The answer policy on made-up spans: first admissible span, judged in its passage, threshold."""

import pytest

from qa.confidence import Calibration
from qa.policy import AnswerPolicy
from qa.spans import Span

CALIBRATION = Calibration(w_margin=1.0, w_support=0.0, bias=0.0, abstain_below=0.5)  # confidence = sigmoid(margin)
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
    unsure = policy.judge("是什么？", [Span("综合体", 1, 4, 7, -1.0)], PASSAGES)
    assert policy.abstain_below == 0.5 and not policy.answers(unsure)
    assert policy.answers(unsure, abstain_below=0.0) and not policy.answers(None, abstain_below=0.0)
    assert AnswerPolicy.load(CALIBRATION, abstain_below=0.1).answers(unsure)
