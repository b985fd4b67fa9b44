"""Follow-up questions and sentence answers: the rules alone, no model."""

import pytest

from qa.conversation.follow_ups import (
    Turn,
    as_turns,
    carry_over,
    filled_in,
    follow_up,
    leans_back,
    subject,
)
from qa.answering.question_types import sentence_question
from qa.answering.sentences import echoed_answer, sentence_answer
from qa.settings import SENTENCE_ANSWER_CHARS

EARLIER = Turn("璧山的生物制造中试平台是什么时候开工的？", "2025年11月", "article.txt", 2311, 2319)


@pytest.mark.parametrize(("question", "leans"), [
    ("它的投资是多少？", True), ("其中哪个是“需求侧”？", True), ("重庆理工大学的呢？", True), ("那“人工智能+”行动方案呢？", True),
    ("他是哪家媒体的记者？", True), ("这篇报道的记者是谁？", False), ("是哪天发布的？", False), ("长安汽车新能源汽车年销量突破了多少？", False),
])
def test_what_leans_back(question, leans):
    assert leans_back(question) is leans


def test_an_ellipsis_takes_the_earlier_predicate():
    assert carry_over("重庆理工大学", "重庆中医药学院的产业创新综合体是什么方向？") == "重庆理工大学的产业创新综合体是什么方向？"
    assert carry_over("66个市属国企项目", "市国资委正式立项的“四链”融合项目总投资多少？") == "66个市属国企项目总投资多少？"
    assert carry_over("“人工智能+”行动方案", "“人工智能+制造”实施方案推动人工智能创新与什么双向赋能？") == "“人工智能+”行动方案推动人工智能创新与什么双向赋能？"
    unrelated = carry_over("智能驾驶响应时间", "百公里加速进入了什么俱乐部？")  # shares no subject: borrows no predicate
    assert unrelated.startswith("智能驾驶响应时间") and "俱乐部" not in unrelated


def test_the_earlier_subject_or_answer_is_filled_in():
    assert subject(EARLIER.question) == "璧山的生物制造中试平台"
    assert subject("重庆科技发展战略研究院发布了什么？") == "重庆科技发展战略研究院"
    assert filled_in("它的投资是多少？", EARLIER) == ["璧山的生物制造中试平台的投资是多少？"]  # an answer that is a date is no referent
    named = Turn("三安光电设立了什么公司？", "安意法半导体（重庆）有限公司")
    assert filled_in("它进入了什么阶段？", named) == ["三安光电进入了什么阶段？", "安意法半导体（重庆）有限公司进入了什么阶段？"]
    assert not [q for q in filled_in("它们分布在哪里？", Turn("全市综合体总数达到多少家？", "约18家")) if "18家" in q]  # an amount is no referent
    assert filled_in("是哪天开工的？", EARLIER)[0] == "璧山的生物制造中试平台是哪天开工的？"
    both = Turn("重庆以哪两大抓手推进“双链融合”？", "甲和乙")
    assert filled_in("其中哪个是“需求侧”？", both) == ["甲和乙中哪个是“需求侧”？"]


def test_a_follow_up_searches_with_the_earlier_turn_and_reads_the_question_as_is_too():
    plan = follow_up("它的投资是多少？", [Turn("无关的问题？", "无关"), EARLIER])
    assert plan.turn == EARLIER and plan.readings[-1] == "它的投资是多少？"
    assert plan.readings[0] == "璧山的生物制造中试平台的投资是多少？"
    assert EARLIER.question in plan.search and EARLIER.answer in plan.search
    assert follow_up("它的投资是多少？", []) is None


def test_history_comes_as_answers_or_pairs():
    class Answer:  # what Assistant.ask returns, as far as turns go
        question, answer, doc_id, start, end, understood_as = EARLIER.question, EARLIER.answer, "article.txt", 2311, 2319, ""

    class FollowUpAnswer(Answer):
        question, understood_as = "它是什么时候开工的？", EARLIER.question

    assert as_turns([Answer()]) == [EARLIER]
    assert as_turns([FollowUpAnswer()]) == [EARLIER]  # a follow-up's turn holds the question it was understood as
    assert as_turns([("问？", "答"), ["问二？", ""], ("", "x")]) == [Turn("问？", "答"), Turn("问二？", "")]
    assert as_turns(None) == [] and as_turns([EARLIER]) == [EARLIER]  # turns as they are (the chat keeps them)


@pytest.mark.parametrize(("question", "kind"), [
    ("SDA平台是什么？", "definition"), ("什么是产业创新综合体？", "definition"), ("长安汽车销量突破100万辆的原因是什么？", "why"),
    ("为什么要建设中试平台？", "why"), ("重庆如何让创新链离产业链更近？", "how"), ("这意味着什么？", "meaning"),
    ("市国资委做了什么？", "deed"), ("首款图像传感器有什么意义？", "meaning"),
    ("重庆中医药学院的综合体是什么方向？", None), ("SDA让汽车发生了怎样的转变？", None), ("新型研发机构的数量有什么变化？", None),
    ("长安汽车新能源汽车年销量突破了多少？", None), ("产业创新综合体是什么性质的实体？", None),
    ("惜字塔在客家地区被称为什么？", None), ("16号线在2010年改名为什么？", None), ("华北陆块成为什么的一部分？", None),  # 为+什么: as what
    ("这一时期被称为什么时期？", None), ("银河的水质指数如何？", None), ("生濑胜久的演技怎么样？", None), ("武穴酥糖原名是什么？", None),
    ("甲醇钠如何储存？", "how"), ("舜天是怎么当上国王的？", "how"),
    ("荆州被夺是因为什么？", "why"), ("为什么要建设中试平台", "why"),
])
def test_which_questions_get_sentence_answers(question, kind):
    assert sentence_question(question) == kind


def test_a_sentence_answer_joins_the_sentences_that_go_on_from_each_other():
    text = "第一段说别的。\n\n长安汽车宣布销量突破100万辆。这一成就源于创新投入。另起一句。\n该平台支持快充。"
    at = text.index("100万辆")
    assert text[slice(*sentence_answer(text, at, at + 5, SENTENCE_ANSWER_CHARS))] == "长安汽车宣布销量突破100万辆。这一成就源于创新投入。"
    at = text.index("快充")
    assert text[slice(*sentence_answer(text, at, at + 2, SENTENCE_ANSWER_CHARS))] == "该平台支持快充。"  # a line break is never crossed
    at = text.index("长安")
    assert text[slice(*sentence_answer(text, at, at + 2, limit=20))] == "长安汽车宣布销量突破100万辆。"  # the join must fit


def test_a_long_sentence_is_narrowed_to_clauses_around_the_span():
    text = "，".join(f"第{i}个分句有一些内容" for i in range(30)) + "。"
    at = text.index("第15个")
    a, b = sentence_answer(text, at, at + 4, limit=40)
    assert a <= at and at + 4 <= b and b - a <= 40 and text[a:b].startswith("第")


def test_a_text_that_asks_the_question_answers_it_next():
    passage = "SDA平台是什么？它是一套电子电气架构。"
    assert passage[echoed_answer(passage, "SDA平台是什么？"):].startswith("它是一套")
    assert echoed_answer(passage, "什么是SDA平台？") is None and echoed_answer("没有问句。", "SDA平台是什么？") is None
