import json

import pytest

from qa.answering.abstention import MESSAGE as ABSTAIN_MESSAGE
from qa.answering.abstention import REASONS as ABSTAIN_REASONS
from qa.settings import defaults
from tests.conftest import QUESTION

LIMIT = defaults().max_question_chars


def test_answer_with_offsets_and_evidence(assistant, article):
    answer = assistant.ask(QUESTION)
    assert answer.answer == "100万辆"
    assert article[answer.start : answer.end] == answer.answer
    assert answer.doc_id == "article.txt" and 0 <= answer.confidence <= 1
    assert answer.answer in answer.evidence and "长安汽车" in answer.evidence
    assert article[answer.evidence_start : answer.evidence_start + len(answer.evidence)] == answer.evidence
    assert answer.passages and any("100万辆" in h.text for h in answer.passages)


@pytest.mark.parametrize("question,expected", [
    ("重庆信息与智慧医学研究院由哪个部门举办？", "市科技局"),
    ("璧山的生物制造中试平台投资了多少钱？", "6.25亿元"),
    ("这篇报道的记者是谁？", "廖平"),
])
def test_more_real_questions(assistant, article, question, expected):
    answer = assistant.ask(question)
    assert expected in answer.answer
    assert article[answer.start : answer.end] == answer.answer


def test_abstains_when_the_article_does_not_say(assistant):
    answer = assistant.ask("重庆全市现在有多少家新型研发机构？")  # it never gives the number
    assert answer.answer == "" and answer.grade == "none" and ABSTAIN_MESSAGE in answer.message and answer.message.startswith("文章中")
    assert answer.message.endswith(ABSTAIN_REASONS[answer.abstained_because]) and answer.abstained_because != "no_passage"
    assert answer.passages  # the closest passages are still shown
    data = answer.to_json()
    assert data["answer"] == "" and data["grade"] == "none" and data["abstained_because"] == answer.abstained_because


def test_a_self_contained_question_is_sure_and_an_unanswerable_one_is_not(assistant):
    sure = assistant.ask(QUESTION)
    assert (sure.grade, sure.answer, sure.to_json()["grade"]) == ("sure", "100万辆", "sure") and not sure.unsure
    unanswerable = assistant.ask("重庆信息与智慧医学研究院的院长是谁？")  # the article names a vice-president of another institute
    assert unanswerable.grade != "sure" and unanswerable.confidence < assistant.policy.sure_from
    unsure = assistant.ask("重庆信息与智慧医学研究院哪天开始启用？")  # right (1月6日), with a middling confidence
    assert assistant.policy.abstain_below <= unsure.confidence < assistant.policy.sure_from
    assert (unsure.grade, unsure.answer, unsure.abstained_because) == ("unsure", "1月6日", "") and unsure.unsure and "1月6日" in unsure.evidence  # shown, marked


def test_an_unsure_answer_is_withheld_and_kept_as_the_guess(assistant):
    from qa.assistant import Assistant

    strict = Assistant(assistant.retriever, assistant.reader, abstain_below=1.01)
    answer = strict.ask("长安汽车新能源汽车年销量突破了多少？")
    assert answer.abstained and answer.abstained_because == "unsure"
    assert answer.guess.answer == "100万辆" and answer.guess.confidence == answer.confidence
    assert answer.to_json()["guess"]["answer"] == "100万辆" and not assistant.ask("长安汽车新能源汽车年销量突破了多少？").guess


def test_a_question_no_passage_speaks_of_abstains_saying_so(assistant):
    answer = assistant.ask("埃菲尔铁塔有多高？")
    assert answer.abstained and answer.abstained_because == "no_passage"


@pytest.mark.parametrize("question", ["", "   \n", "问" * (LIMIT + 1)])
def test_bad_questions_raise_value_error(assistant, question):
    with pytest.raises(ValueError):
        assistant.ask(question)


@pytest.mark.parametrize("question", ["How many cars did Changan sell?", "🚗🚗🚗", "???", "问" * LIMIT])
def test_odd_questions_never_crash(assistant, question):
    answer = assistant.ask(question)
    assert isinstance(answer.answer, str) and 0 <= answer.confidence <= 1


def test_threshold_is_a_per_call_override(assistant):
    question = "重庆信息与智慧医学研究院哪天开始启用？"  # graded unsure
    shipped = assistant.abstain_below
    withheld = assistant.ask(question, abstain_below=0.9)
    assert withheld.grade == "none" and withheld.abstained_because == "unsure" and withheld.guess.answer == "1月6日"
    assert assistant.abstain_below == shipped and assistant.ask(question).grade == "unsure"  # nothing was overwritten


@pytest.mark.parametrize(
    ("question", "answer", "fits"),
    [("有多少家新型研发机构？", "高能级创新平台", False), ("有多少家新型研发机构？", "50余家", True), ("突破了多少？", "百万辆", True),
     ("有几个综合体？", "五个", True), ("有几个综合体？", "综合体", False), ("由哪几个部分组成？", "站房、站台", True), ("是谁？", "刘益安", True)],
)
def test_how_many_questions_need_a_numeral(question, answer, fits):
    from qa.answering.question_types import admits

    assert admits(question, answer) is fits


def test_how_many_question_without_a_number_in_the_article_abstains(assistant):
    answer = assistant.ask("重庆全市现在有多少家新型研发机构？")
    assert answer.abstained and ABSTAIN_MESSAGE in answer.message and answer.passages


def test_assistant_is_composed_of_the_stages_it_is_given(assistant):
    from qa.assistant import Assistant

    composed = Assistant(assistant.retriever, assistant.reader, k=1, abstain_below=0.0)
    assert composed.retriever is assistant.retriever and composed.reader is assistant.reader
    answer = composed.ask(QUESTION)
    assert answer.answer == "100万辆" and len(answer.passages) == 1
    assert len(composed.ask(QUESTION, k=4).passages) == 4  # per-call override


def test_chunks_are_read_one_at_a_time_until_one_settles_it(assistant, monkeypatch):
    from qa.assistant import Assistant

    chunks_per_reading = []
    run_batch = assistant.reader.run_batch
    monkeypatch.setattr(assistant.reader, "run_batch", lambda items, **kw: chunks_per_reading.append(sum(len(c) for _, c in items)) or run_batch(items, **kw))
    assert assistant.ask(QUESTION).answer == "100万辆" and chunks_per_reading == [1]  # the first chunk is decisive
    chunks_per_reading.clear()
    assert assistant.ask("重庆信息与智慧医学研究院的院长是谁？").grade != "sure" and chunks_per_reading == [1, 1, 1]  # none is
    chunks_per_reading.clear()
    together = Assistant(assistant.retriever, assistant.reader, decisive=None)
    assert together.ask(QUESTION).answer == "100万辆" and chunks_per_reading == [3]


def test_answer_carries_its_stage_timings(assistant):
    assert assistant.reader.reread  # reading twice is the default
    once = assistant.ask(QUESTION, reread=False)
    assert set(once.timings) == {"retrieve", "read", "total"} and once.answer == "100万辆"
    twice = assistant.ask(QUESTION)
    assert set(twice.timings) == {"retrieve", "read", "reread", "total"} and twice.answer == "100万辆"
    assert 0 < twice.timings["read"] < twice.timings["total"]
    assert assistant.reader.reread  # the override does not stick


def test_calibration_is_read_from_the_shipped_file(assistant):

    from qa.answering.calibration import CALIBRATION_FILE

    data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    grades = data["grades"]
    assert (assistant.policy.sure_from, assistant.abstain_below, assistant.calibration.no_answer_margin) == (grades["sure_from"], grades["unsure_from"], grades["no_answer_margin"])
    assert data["fitted_on"] and data["date"] and data["grades_fitted"]["on"]
    assert assistant.calibration.weights == data["weights"] and assistant.calibration.bias == data["bias"]


def test_traditional_question_gets_the_source_span(assistant, article):
    simplified = assistant.ask(QUESTION)
    traditional = assistant.ask("長安汽車新能源汽車年銷量突破了多少？")
    assert (traditional.answer, traditional.start, traditional.end) == (simplified.answer, simplified.start, simplified.end)
    assert article[traditional.start : traditional.end] == "100万辆"  # shown in the characters of the source
    assert traditional.question == "長安汽車新能源汽車年銷量突破了多少？"


def test_a_follow_up_question_is_answered_from_the_earlier_turn(assistant, article):
    first = assistant.ask("璧山的生物制造中试平台是什么时候开工的？")
    assert first.answer == "2025年11月"
    follow = assistant.ask("它的投资是多少？", history=[first])
    assert follow.answer == "6.25亿元" and article[follow.start : follow.end] == "6.25亿元"
    assert follow.understood_as == "璧山的生物制造中试平台的投资是多少？"
    pairs = assistant.ask("它的投资是多少？", history=[("璧山的生物制造中试平台是什么时候开工的？", "2025年11月")])
    assert (pairs.answer, pairs.start) == (follow.answer, follow.start)  # (question, answer) pairs locate the earlier answer by its text
    earlier = assistant.ask("市国资委正式立项的“四链”融合项目总投资多少？")
    assert earlier.answer == "47.9亿元"
    ellipsis = assistant.ask("那66个市属国企项目呢？", history=[earlier])
    assert ellipsis.answer == "27亿元" and ellipsis.understood_as == "66个市属国企项目总投资多少？"


@pytest.mark.parametrize(
    ("first", "first_answer", "follow", "expected"),
    [
        ("重庆科技发展战略研究院发布了什么？", "十大科技进展", "是哪天发布的？", "1月14日"),  # a when-answer holds a time
        ("重庆中医药学院的产业创新综合体是什么方向？", "智慧中医药", "重庆理工大学的呢？", "智慧光电"),  # the named item of a list
        ("天枢智能自动驾驶平台实现了什么级别的商业落地？", "L3级", "它入选了哪份榜单？", "2025年度重庆十大科技进展"),  # 这份榜单: the sentence before
    ],
)
def test_the_issues_follow_ups_get_their_answers(assistant, article, first, first_answer, follow, expected):
    earlier = assistant.ask(first)
    assert first_answer in earlier.answer
    later = assistant.ask(follow, history=[earlier])
    assert later.answer == expected and article[later.start : later.end] == expected


@pytest.mark.parametrize("question", [QUESTION, "重庆信息与智慧医学研究院由哪个部门举办？", "这篇报道的记者是谁？", "重庆信息与智慧医学研究院的院长是谁？"])
def test_a_self_contained_question_gets_the_same_answer_with_or_without_history(assistant, question):
    history = [assistant.ask("璧山的生物制造中试平台是什么时候开工的？")]
    alone, later = assistant.ask(question), assistant.ask(question, history=history)
    assert (later.answer, later.start, later.end, later.confidence) == (alone.answer, alone.start, alone.end, alone.confidence)
    assert later.understood_as == ""


def test_why_and_what_is_questions_get_the_sentence_that_holds_the_answer(assistant, article):
    definition = assistant.ask("SDA平台是什么？")
    assert definition.kind == "sentence" and "超级神经网络" in definition.answer and len(definition.answer) <= 150
    why = assistant.ask("长安汽车新能源汽车年销量突破100万辆的原因是什么？")
    assert why.kind == "sentence" and "不断的创新投入" in why.answer
    for answer in (definition, why):
        assert article[answer.start : answer.end] == answer.answer == answer.evidence and answer.evidence_start == answer.start
    assert definition.phrase == "" and definition.to_json()["phrase"] is None  # the text asked it itself: no span of the reader's
    phrase = why.to_json()["phrase"]  # the reader's own span, inside the sentence
    assert phrase["text"] == why.phrase == article[phrase["start"] : phrase["end"]] and why.start <= phrase["start"] < phrase["end"] <= why.end
    factoid = assistant.ask(QUESTION)
    assert factoid.kind == "span" and factoid.answer == "100万辆" and factoid.to_json()["phrase"] is None


def test_an_early_stop_that_the_rereading_overturns_is_read_in_full(assistant):
    """The first chunks' best span settles the reading, its sentence read alone rejects it; the
    answer is in the third chunk, which only a full reading sees."""
    question = "重庆如何让创新链离产业链更近？"
    answer = assistant.ask(question)
    assert answer.kind == "sentence" and "物理性“搬到”产业链身边" in answer.answer
    judged, = assistant.loop.judge([question], [assistant.retriever.search(question, k=assistant.k)], True, {})
    stopped, early = assistant.loop.read([question], [assistant.retriever.search(question, k=assistant.k)], assistant.decisive)
    assert early == {0} and judged.span.context_index > 0  # it stopped at the first chunk; the answer is read from a later one


def test_a_change_is_answered_from_what_it_was(assistant):
    change = assistant.ask("“十五五”时期重庆的发展动能有什么变化？")
    assert change.kind == "span" and change.answer.startswith("从主要依靠传统要素驱动加快转向创新驱动")


def test_lines_that_only_their_numbers_tell_apart_are_answered(embedder, assistant):
    """Equal-weight RRF let dense noise push the one line with the number out of the top 3;
    fusion keeps BM25's decisive hit first (qa.retrieval.fusion)."""
    from eval.identifier import QUESTIONS, identifier_text
    from qa.assistant import Assistant
    from qa.ingest.corpus import Document
    from qa.retrieval.retriever import Retriever

    retriever = Retriever(documents=[Document("dams.txt", identifier_text())], embedder=embedder)
    dams = Assistant(retriever, assistant.reader)
    for question, gold, line in QUESTIONS:
        assert line in retriever.search(question, k=1)[0].text
        assert dams.ask(question).answer == gold


def test_questions_asked_together_get_the_answers_they_get_alone(assistant):
    """The batched /ask path: shared forward passes, the same answers, offsets and reasons."""
    from eval.paths import QUESTIONS
    from qa.evaluation.runner import load_cases

    questions = [c.question for c in load_cases(QUESTIONS)[::4]] + ["長安汽車的新能源汽車年銷量突破了多少？"]
    together = assistant.ask_batch(questions)
    assert len(together) == len(questions) and any(a.abstained for a in together)
    for question, answer in zip(questions, together):
        alone = assistant.ask(question)
        assert (answer.answer, answer.start, answer.kind, answer.grade, answer.abstained_because) == (alone.answer, alone.start, alone.kind, alone.grade, alone.abstained_because), question
    with pytest.raises(ValueError):
        assistant.ask_batch(["长安汽车的销量？", " "])


def test_k_zero_is_an_error_not_the_default(assistant):
    from qa.assistant import Assistant

    with pytest.raises(ValueError, match="k must be"):
        Assistant(assistant.retriever, assistant.reader, k=0)
    with pytest.raises(ValueError, match="k must be"):
        assistant.ask(QUESTION, k=0)
    assert assistant.settings.k == 3 and assistant.ask(QUESTION, k=1).answer == "100万辆"


def test_rules_name_the_steps_that_changed_an_answer(assistant):
    date = assistant.ask("总书记是什么时候到重庆考察的？")
    assert date.answer == "2024年4月" and date.rules == ("complete_date",) and date.to_json()["rules"] == ["complete_date"]
    assert assistant.ask("在双链融合的总体框架里，“需求侧”指什么？").rules[-1] == "paired"
    assert assistant.ask(QUESTION).rules == ()  # no step changed 100万辆
    assert "whole_sentence" in assistant.ask("重庆如何让创新链离产业链更近？").rules
