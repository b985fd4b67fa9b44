"""Decoding, from windows and logits to character spans, on a character tokenizer and made-up logits."""

from functools import partial

import numpy as np
import pytest

from qa.answering.edges import complete_date, trim_span
from qa.answering.pipeline import shape
from qa.reading.decoding import decode, span_margin
from qa.reading.windows import encode_windows
from qa.text.sentences import sentence_bounds
from tests.fakes import char_tokenizer

CONTEXT = "重庆新增5家产业创新综合体，全市总数达18家。"
QUESTION = "新增几家？"


@pytest.fixture
def windows():
    tokenizer = char_tokenizer(QUESTION + CONTEXT)
    return encode_windows(tokenizer, [QUESTION], [CONTEXT])


def token_of(windows, char: int) -> int:
    """The context token of ``windows`` row 0 that covers character ``char``."""
    offsets = windows.offsets[0]
    return next(i for i in np.flatnonzero(windows.context[0]) if offsets[i][0] <= char < offsets[i][1])


def test_windows_cover_the_context_with_offsets(windows):
    offsets, context = windows.offsets[0], windows.context[0]
    assert "".join(CONTEXT[a:b] for (a, b), inside in zip(offsets, context) if inside) == CONTEXT
    assert windows.input_ids[0, 0] == 0 and not context[: len(QUESTION) + 3].any()  # <s>, the question, </s></s>


def test_long_contexts_are_cut_into_overlapping_windows():
    long = CONTEXT * 6
    many = encode_windows(char_tokenizer(QUESTION + long), [QUESTION], [long], max_length=40, stride=8)
    assert len(many.input_ids) > 3 and (many.sample == 0).all()
    covered = {int(a) for row, inside in zip(many.offsets, many.context) for (a, _), keep in zip(row, inside) if keep}
    assert covered == set(range(len(long)))


def test_decode_keeps_to_context_tokens_order_and_length(windows):
    n = windows.input_ids.shape[1]
    start, end = np.zeros((1, n), dtype=np.float32), np.zeros((1, n), dtype=np.float32)
    start[0, 2] = end[0, 1] = 50.0  # the strongest logits sit in the question: never a span
    five = CONTEXT.index("5家")
    start[0, token_of(windows, five)] = 10.0
    end[0, token_of(windows, five - 2)] = 10.0  # an end before the start: never a span
    end[0, token_of(windows, five + 1)] = 5.0
    reading = decode(windows, start, end, [CONTEXT])
    assert (reading.best.text, reading.best.start, reading.best.end, reading.best.score) == ("5家", five, five + 2, 15.0)
    assert [s.score for s in reading.spans] == sorted((s.score for s in reading.spans), reverse=True)
    assert all(CONTEXT[s.start : s.end] == s.text for s in reading.spans)
    spans = decode(windows, start, end, [CONTEXT], top_n=50, max_answer_tokens=2).spans
    assert spans and all(len(s.text) <= 2 for s in spans)  # one character a token here


def test_scores_are_margins_over_the_windows_no_answer(windows):
    n = windows.input_ids.shape[1]
    start, end = np.zeros((1, n), dtype=np.float32), np.zeros((1, n), dtype=np.float32)
    start[0, 0], end[0, 0] = 4.0, 4.0  # no answer: 8, above any span
    start[0, token_of(windows, 4)], end[0, token_of(windows, 5)] = 3.0, 3.0
    assert decode(windows, start, end, [CONTEXT]).best.score == -2.0


def test_decode_shapes_span_edges_and_lists_a_span_once(windows):
    n = windows.input_ids.shape[1]
    start, end = np.zeros((1, n), dtype=np.float32), np.zeros((1, n), dtype=np.float32)
    comma = CONTEXT.index("，")
    a = CONTEXT.index("产业")
    start[0, token_of(windows, a)] = 10.0
    end[0, token_of(windows, comma)] = 10.0  # ends on the comma: trimmed to 产业创新综合体
    end[0, token_of(windows, comma - 1)] = 9.0  # the same span reached directly
    spans = decode(windows, start, end, [CONTEXT], shape=partial(shape, QUESTION)).spans
    assert spans[0].text == "产业创新综合体" and spans[0].score == 20.0
    assert [s.text for s in spans].count("产业创新综合体") == 1
    unshaped = decode(windows, start, end, [CONTEXT]).spans
    assert unshaped[0].text == "产业创新综合体，"


def test_span_margin_scores_a_character_span_against_its_windows_no_answer(windows):
    n = windows.input_ids.shape[1]
    start, end = np.zeros((1, n), dtype=np.float32), np.zeros((1, n), dtype=np.float32)
    start[0, 0], end[0, 0] = 1.0, 2.0  # the window's no-answer score: 3
    a = CONTEXT.index("5家")
    start[0, token_of(windows, a)], end[0, token_of(windows, a + 1)] = 7.0, 6.0
    assert span_margin(windows, start, end, 0, a, a + 2) == 10.0
    assert span_margin(windows, start, end, 1, a, a + 2) is None  # no such context


def test_span_cut_by_every_window_edge_has_no_margin():
    long = CONTEXT * 6
    many = encode_windows(char_tokenizer(QUESTION + long), [QUESTION], [long], max_length=40, stride=8)
    zeros = np.zeros(many.input_ids.shape, dtype=np.float32)
    assert span_margin(many, zeros, zeros, 0, 0, 100) is None  # longer than any window
    assert span_margin(many, zeros, zeros, 0, 10, 12) == 0.0


@pytest.mark.parametrize(
    ("question", "context", "span", "completed"),
    [("什么时候考察的？", "2024年4月，", "2024年", "2024年4月"), ("哪天宣布的？", "于12月20日，", "12月", "12月20日"),
     ("哪天宣布的？", "2025年12月20日", "2025年", "2025年12月20日"), ("哪一年考察的？", "2024年4月", "2024年", "2024年"),
     ("什么时候考察的？", "2024年4月，今年", "4月", "4月"), ("什么时候？", "今年4月", "今年", "今年")],
)
def test_complete_date_only_for_when_questions_cut_inside_a_date(question, context, span, completed):
    start = context.index(span)
    _, end = complete_date(question, context, start, start + len(span))
    assert context[start:end] == completed


@pytest.mark.parametrize(
    ("span", "trimmed"),
    [("“需求侧", "需求侧"), ("需求侧”，", "需求侧"), ("《规划》", "《规划》"), ("“416”科技创新布局", "“416”科技创新布局"),
     (" 100万辆。", "100万辆"), ("（SiC", "SiC"), ("，。", "")],
)
def test_trim_span_drops_edge_punctuation_and_unpaired_quotes(span, trimmed):
    text = "前" + span + "后"
    a, b = trim_span(text, 1, 1 + len(span))
    assert text[a:b] == trimmed


def test_sentence_bounds():
    text = "第一句。  第二句有答案，还有半句；第三句"
    a = text.index("答案")
    assert text[slice(*sentence_bounds(text, a, a + 2))] == "第二句有答案，还有半句；"
    assert text[slice(*sentence_bounds(text, 0, 2))] == "第一句。"
