"""The question-type table (which answers each kind of question admits) and the answer rules one by one."""

import pytest

from qa.answering.in_document import change_origin, named_item, paired
from qa.answering.pipeline import shape as shape_span
from qa.answering.question_types import admits, question_types
from qa.answering.selection import anchored
from qa.text.sentences import FULL_STOP, SENTENCE_WINDOW, sentence_bounds


@pytest.mark.parametrize(("question", "types"), [
    ("璧山的生物制造中试平台投资了多少钱？", {"how_many", "money"}),
    ("长安汽车的营业收入是多少？", {"how_many", "money"}),
    ("长安汽车新能源汽车年销量突破了多少？", {"how_many"}),
    ("这篇报道的记者是谁？", {"who"}),
    ("由哪几个部分组成？", set()),
    ("这一时期被称为什么时期？", {"when"}),  # 为+什么 "as what", not why
    ("为什么说1月14日是发布的日期？", {"why"}),  # why: answered with a sentence
])
def test_question_types(question, types):
    assert {t.name for t in question_types(question)} == types


@pytest.mark.parametrize(("question", "answer", "ok"), [
    ("璧山的生物制造中试平台投资了多少钱？", "6.25亿元", True),
    ("璧山的生物制造中试平台投资了多少钱？", "100万辆", False),  # a count is not a sum of money
    ("项目总投资是多少？", "47.9亿元", True),
    ("长安汽车的营业收入是多少？", "100万辆", False),
    ("收入是多少？", "5000万美元", True),
    ("这篇报道的记者是谁？", "廖平", True),
    ("这篇报道的记者是谁？", "2025年12月20日", False),
    ("谁在1990年代创立了它？", "1990年代", False),
    ("有几个综合体？", "五个", True),
])
def test_admits(question, answer, ok):
    assert admits(question, answer) is ok


@pytest.mark.parametrize(("context", "shaped"), [
    ("2002年开始", "2002年"),  # a verb after a date
    ("从12月起", "从12月"),
    ("功率半导体、微波毫米波等领域。", "功率半导体、微波毫米波等"),  # the noun after a list's 等, not the 等
    ("薄弱等", "薄弱等"),
    ("2002年开始实施", "2002年开始实施"),  # not a tail
])
def test_shape_span_drops_tails_the_gold_convention_leaves_out(context, shaped):
    a, b = shape_span("", context, 0, len(context))
    assert context[a:b] == shaped


def test_a_span_that_is_all_tail_is_kept():
    context = "2002年开始"
    assert shape_span("", context, 5, 7) == (5, 7)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("第888号水电站的站长是谁？", "第888号水电站的站长是王888号。", True),
        ("第888号水电站的站长是谁？", "装机容量为1888千瓦，站长是王889号。", False),  # 888 only inside 1888
        ("G20峰会在哪里举行？", "2016年G20峰会在杭州举行。", True),
        ("峰会在哪里举行？", "峰会在杭州举行。", True),  # no number asked: any sentence
    ],
)
def test_a_sentence_is_anchored_when_it_names_the_questions_numbers(question, sentence, expected):
    text = "前一句没有。" + sentence + "后一句也没有888。"
    at = text.index(sentence) + len(sentence) - 4
    assert anchored(question, text, at, at + 2) is expected


@pytest.mark.parametrize(
    ("question", "answer", "fits"),
    [
        ("十大科技进展是哪天发布的？", "1月14日", True),
        ("十大科技进展是哪天发布的？", "重庆科技发展战略研究院", False),
        ("金华县开始在什么时期？", "东汉", True),
        ("阿瓦隆尼亚大陆存在于什么时期？", "寒武纪到志留纪", True),
        ("谁在什么时候发布了榜单？", "重庆科技发展战略研究院", True),  # who as well: not only a time
    ],
)
def test_a_when_question_needs_a_time(question, answer, fits):
    assert admits(question, answer) is fits


def test_a_when_answer_is_cut_to_its_time_clause():
    context = "1月14日，重庆科技发展战略研究院发布2025年度重庆十大科技进展。"
    end = context.index("发布")
    assert context[slice(*shape_span("十大科技进展是哪天发布的？", context, 0, end))] == "1月14日"
    assert context[slice(*shape_span("谁发布了十大科技进展？", context, 0, end))] == "1月14日，重庆科技发展战略研究院"  # not a when-question
    assert context[slice(*shape_span("为什么说1月14日是发布的日期？", context, 0, end))] == "1月14日，重庆科技发展战略研究院"  # a why-question, as the type table reads it



def test_of_an_answer_listing_items_with_bracketed_attributes_the_named_items_is_kept():
    text = "重庆新增5家产业创新综合体，包括重庆中医药学院（智慧中医药）、重庆理工大学（智慧光电）等。"
    start, end = text.index("重庆中医药"), text.index("等。") + 1
    assert text[slice(*named_item("重庆理工大学的产业创新综合体是什么方向？", text, start, end))] == "智慧光电"
    assert named_item("新增了哪些产业创新综合体？", text, start, end) == (start, end)  # no item named: the list
    one = text.index("重庆理工大学")
    assert named_item("重庆理工大学的方向？", text, one, end - 1) == (one, end - 1)  # a single item is left alone


def test_an_answer_about_a_change_begins_where_its_clause_says_what_it_was():
    text = "“十五五”时期，全市呈现新的特征，发展动能从主要依靠传统要素驱动加快转向创新驱动的新阶段。"
    start, end = text.index("传统"), text.index("的新阶段")
    assert text[slice(*change_origin("发展动能有什么变化？", text, start, end))] == "从主要依靠传统要素驱动加快转向创新驱动"
    assert change_origin("发展动能依靠什么？", text, start, end) == (start, end)  # not a question about a change
    assert change_origin("发展动能有什么变化？", text, start, text.index("加快")) == (start, text.index("加快"))  # says no new state
    other = "从去年起，销量转向新能源。"  # the 从 is in another clause: as it is
    assert change_origin("销量有什么变化？", other, other.index("转向"), len(other) - 1) == (other.index("转向"), len(other) - 1)


def test_an_answer_inside_a_respectively_pair_is_the_member_the_question_names():
    text = "重庆构建以“416”科技创新布局和“33618”现代制造业集群体系为“供给侧”和“需求侧”，两者深度融合。"
    at = text.index("供给侧")
    assert text[slice(*paired("其中哪个是“需求侧”？", text, at, at + 3))] == "“33618”现代制造业集群体系"
    assert text[slice(*paired("什么充当供给侧？", text, at + 6, at + 9))] == "“416”科技创新布局"
    assert paired("两者是什么？", text, at, at + 3) == (at, at + 3)  # neither role named: as it is
    plain = "甲和乙分别为冠军和亚军。"
    assert plain[slice(*paired("谁是亚军？", plain, 3, 5))] == "乙"
    assert paired("谁是亚军？", text, 0, 2) == (0, 2)  # outside the pair: as it is


def test_a_pair_is_looked_for_near_the_answer_only():
    """An uploaded text without punctuation is one "sentence": the pair's search stays near the
    answer and its parts short (an unbounded pattern took 17 s on 3,000 such characters)."""
    text = "甲和乙为丙" * 40_000  # 200,000 characters, no punctuation
    assert paired("哪个是丙？", text, 100_000, 100_002) == (100_000, 100_002)


def test_a_sentence_start_far_back_is_found_across_search_windows():
    for gap in (0, 1, SENTENCE_WINDOW - 1, SENTENCE_WINDOW, SENTENCE_WINDOW + 1, 5 * SENTENCE_WINDOW):
        text = "甲。" + "乙" * gap + "丙；丁。戊"
        at = text.index("丁")
        assert sentence_bounds(text, at, at + 1) == (text.index("丁"), text.index("戊"))  # after the semicolon
        assert sentence_bounds(text, at, at + 1, FULL_STOP) == (2, text.index("戊"))  # back to the first 。
    assert sentence_bounds("乙" * 3000, 2500, 2501) == (0, 3000)  # no end anywhere: the whole text
