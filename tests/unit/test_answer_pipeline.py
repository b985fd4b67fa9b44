"""The assistant's parts on made-up spans and confidences: the answer steps and the ``rules``
they record, the reading loop's early stop and redo, the follow-up policy, the question check."""

from dataclasses import replace

import pytest

from qa.answering.calibration import Calibration
from qa.answering.pipeline import AnswerPipeline
from qa.answering.policy import AnswerPolicy
from qa.answering.reading_loop import ReadingLoop
from qa.answering.steps import STEPS
from qa.conversation.follow_ups import Turn
from qa.conversation.policy import answer_in_conversation
from qa.conversation.question import QuestionCheck, check_question
from qa.types import Answer, Hit, Reading, Span

CALIBRATION = Calibration({"margin": 1.0}, bias=0.0, abstain_below=0.5)  # confidence = sigmoid(margin)


class NamingReader:
    """Answers every question with ``answer`` where the context holds it (the antecedent's forward pass)."""

    def __init__(self, answer: str = ""):
        self.answer, self.asked = answer, []

    def run(self, question, contexts, reread=None, shape=None):
        self.asked.append(question)
        at = contexts[0].find(self.answer) if self.answer else -1
        return Reading([Span(self.answer, 0, at, at + len(self.answer), 1.0)] if at >= 0 else [])


def pipeline(reader=None) -> AnswerPipeline:
    return AnswerPipeline(AnswerPolicy.load(CALIBRATION), reader or NamingReader(), 150, 0.5)


def answer(question: str, text: str, spans: list[Span], reader=None) -> Answer:
    """The pipeline's answer from ``spans`` over ``text``, one chunk that is the whole document."""
    p = pipeline(reader)
    hits = [Hit(text, "doc", 0, 0, len(text), 0.0, 1, 1)]
    return p.answer(question, question, p.judge(question, spans, hits), hits, lambda _: text, None, {})


def span(text: str, piece: str, score: float = 3.0, raw: str | None = None) -> Span:
    """``piece`` of ``text`` as a span; ``raw``: the longer piece the tokens gave before shaping."""
    at = text.index(raw or piece)
    start = text.index(piece, at)
    return Span(piece, 0, start, start + len(piece), score, raw_start=at if raw else None, raw_end=at + len(raw) if raw else None)


TEXT = "1月14日，重庆科技发展战略研究院发布十大科技进展。新增5家综合体，包括重庆中医药学院（智慧中医药）、重庆理工大学（智慧光电）等。"


def test_every_step_is_named_documented_and_measured_in_one_order():
    names = [s.name for s in STEPS]
    assert len(names) == len(set(names)) and [s.stage for s in STEPS] == sorted((s.stage for s in STEPS), key=["shape", "select", "place"].index)
    assert all(s.doc and "CMRC dev" in s.measured and "article" in s.measured for s in STEPS)


@pytest.mark.parametrize(("question", "spans", "expected", "rules"), [
    ("研究院发布了什么？", [span(TEXT, "十大科技进展")], "十大科技进展", []),  # no step changed it
    ("十大科技进展是哪天发布的？", [span(TEXT, "1月14日", raw="1月14日，重庆")], "1月14日", ["time_clause"]),
    ("新增了几家？", [span(TEXT, "综合体", 4.0), span(TEXT, "5家")], "5家", ["admissible"]),  # 几 needs a numeral
    ("重庆理工大学的综合体是什么方向？", [span(TEXT, "重庆中医药学院（智慧中医药）、重庆理工大学（智慧光电）")], "智慧光电", ["named_item"]),
    ("为什么新增综合体？", [span(TEXT, "5家")], "新增5家综合体，包括重庆中医药学院（智慧中医药）、重庆理工大学（智慧光电）等。", ["whole_sentence"]),
])
def test_a_steps_name_is_recorded_exactly_when_it_changed_the_answer(question, spans, expected, rules):
    got = answer(question, TEXT, spans)
    assert got.answer == expected and list(got.rules) == rules and got.to_json()["rules"] == rules


def test_the_antecedent_is_read_by_one_more_timed_forward_pass():
    text = "1月14日，研究院发布十大科技进展。\n\n细看这份榜单，从柑橘机制到天枢平台都是突破。"
    reader = NamingReader("十大科技进展")
    p = pipeline(reader)
    hits = [Hit(text, "doc", 0, 0, len(text), 0.0, 1, 1)]
    timings = {}
    got = p.answer("天枢平台入选了哪份榜单？", "天枢平台入选了哪份榜单？", p.judge("天枢平台入选了哪份榜单？", [span(text, "天枢平台")], hits), hits, lambda _: text, None, timings)
    assert got.answer == "十大科技进展" and got.rules == ("antecedent",) and reader.asked == ["这份榜单是什么？"] and timings["antecedent"] > 0


def test_an_abstention_keeps_its_reason_and_its_guess_keeps_the_rules():
    got = answer("十大科技进展是哪天发布的？", TEXT, [span(TEXT, "1月14日", score=-1.0, raw="1月14日，重庆")])
    assert got.abstained and got.abstained_because == "not_answered" and got.rules == ()
    assert got.guess.answer == "1月14日" and got.guess.rules == ("time_clause",)


class LoopReader:
    """Per chunk text, the spans a reading finds; re-reading scores each span by ``sentence``."""

    top_n, reread = 5, True

    def __init__(self, found: dict[str, list[tuple[str, float]]], sentence: dict[str, float]):
        self.found, self.sentence, self.passes = found, sentence, []

    def run_batch(self, items, reread=False, shaper=None):
        self.passes.append([len(contexts) for _, contexts in items])
        return [Reading(sorted((Span(t, i, c.index(t), c.index(t) + len(t), s) for i, c in enumerate(contexts) for t, s in self.found.get(c, [])), key=lambda x: -x.score)) for _, contexts in items]

    def read_sentences(self, items, readings):
        rescored = [[Span(s.text, s.context_index, s.start, s.end, s.score, self.sentence.get(s.text)) for s in r.spans] for r in readings]
        return [Reading(sorted(spans, key=lambda s: -s.rank_score)) for spans in rescored]


def test_an_early_stop_the_rereading_overturns_is_read_again_over_all_chunks():
    chunks = ["甲说了乙。", "无关的话。", "答案是丙。"]
    hits = [Hit(c, "doc", i, 10 * i, 10 * i + len(c), 0.0, 1, 1) for i, c in enumerate(chunks)]
    reader = LoopReader({"甲说了乙。": [("甲", 3.0), ("乙", -0.5)], "答案是丙。": [("丙", 4.0)]}, {"甲": -10.0, "乙": 5.0, "丙": 4.0})
    loop = ReadingLoop(reader, pipeline(), decisive=0.6)
    timings = {}
    (judged,) = loop.judge(["说了什么？"], [hits], True, timings)
    assert reader.passes == [[1], [3]]  # the first chunk settled it (甲, 0.95), the re-reading overturned it (乙, 0.38): all three read
    assert judged.span.text == "丙" and judged.confidence > 0.5 and timings["read"] > 0 and timings["reread"] > 0
    settled = LoopReader({"甲说了乙。": [("甲", 3.0)]}, {"甲": 3.0})
    assert ReadingLoop(settled, pipeline(), decisive=0.6).judge(["说了什么？"], [hits], True, {})[0].span.text == "甲" and settled.passes == [[1]]


def reply(text: str, confidence: float, understood: str = "") -> Answer:
    return Answer("q", text, confidence, None, None, None, "", None, understood_as=understood)


def test_a_self_contained_question_is_asked_alone_and_a_follow_up_with_the_earlier_turn():
    asked = []

    def respond(reading, search, earlier):
        asked.append((reading, earlier is not None))
        return reply("6.25亿元" if "平台" in reading else "", 0.9 if "平台" in reading else 0.1)

    earlier = [Turn("璧山的生物制造中试平台是什么时候开工的？", "2025年11月")]
    alone = answer_in_conversation("平台的投资是多少？", earlier, respond)
    assert asked == [("平台的投资是多少？", False)] and alone.rules == ()  # self-contained and answered: asked alone only
    asked.clear()
    answer_in_conversation("长安汽车销量突破了多少？", earlier, respond)
    assert asked[0] == ("长安汽车销量突破了多少？", False) and len(asked) > 1 and all(e for _, e in asked[1:])  # abstained alone: retried as a follow-up
    asked.clear()
    follow = answer_in_conversation("它的投资是多少？", earlier, respond)
    assert asked == [("璧山的生物制造中试平台的投资是多少？", True), ("它的投资是多少？", True)]  # leans back: never alone
    assert follow.answer == "6.25亿元" and follow.rules == ("follow_up",)
    asked.clear()
    assert answer_in_conversation("它的投资是多少？", [], respond).rules == () and asked == [("它的投资是多少？", False)]


def test_a_question_whose_own_words_no_passage_holds_is_not_retried_as_a_follow_up():
    asked = []

    def respond(reading, search, earlier):
        asked.append(reading)
        return replace(reply("", 0.0), abstained_because="no_passage" if "铁塔" in reading else "unsure", grade="none")

    earlier = [Turn("长安汽车新能源汽车年销量突破了多少？", "100万辆")]
    answer = answer_in_conversation("埃菲尔铁塔有多高？", earlier, respond)
    assert asked == ["埃菲尔铁塔有多高？"] and answer.abstained_because == "no_passage"  # no earlier subject brings 埃菲尔铁塔
    asked.clear()
    answer_in_conversation("销量是多少？", earlier, respond)
    assert len(asked) > 1  # withheld for another reason: retried with the earlier turn


def test_the_question_check_and_its_script():
    check = QuestionCheck(max_chars=20, script="simplified")
    assert check("  長安汽車的銷量？ ") == ("長安汽車的銷量？", "长安汽车的销量？")
    assert check.turns([("長安汽車的銷量？", "100万辆")]) == [Turn("长安汽车的销量？", "100万辆")]
    assert QuestionCheck(20, "traditional")("长安汽车的销量？") == ("长安汽车的销量？", "長安汽車的銷量？")  # a Traditional text
    assert QuestionCheck(20, None)("長安汽車？") == ("長安汽車？", "長安汽車？")  # a mix of both: as asked
    for bad in ("", "   ", "x" * 21, None):
        with pytest.raises(ValueError):
            check_question(bad, 20)


def test_the_pipeline_grades_each_answer_and_names_where_it_looked():
    graded = Calibration({"margin": 1.0}, bias=0.0, abstain_below=0.2, sure_from=0.6, no_answer_margin=-3.0)
    text = "全市产业创新综合体总数达18家。"
    hits = [Hit(text, "doc", 0, 0, len(text), 0.0, 1, 1)]

    def graded_answer(margin: float, where: str = "文章") -> Answer:
        p = AnswerPipeline(AnswerPolicy.load(graded), NamingReader(), 150, 0.5, where)
        question = "全市产业创新综合体有多少家？"
        return p.answer(question, question, p.judge(question, [span(text, "18家", margin)], hits), hits, lambda _: text, None, {})

    sure, unsure, low, unanswered = graded_answer(2.0), graded_answer(0.0), graded_answer(-1.5), graded_answer(-3.5, "资料库")
    assert (sure.grade, sure.answer, sure.unsure) == ("sure", "18家", False)
    assert (unsure.grade, unsure.answer, unsure.unsure, unsure.abstained_because, unsure.guess) == ("unsure", "18家", True, "", None)
    assert unsure.to_json()["grade"] == "unsure" and unsure.to_json()["answer"] == "18家"
    assert (low.grade, low.answer, low.abstained_because, low.guess.answer) == ("none", "", "not_answered", "18家")
    assert low.message == "文章中没有找到这个问题的答案：找到的段落没有回答这个问题" and low.to_json()["grade"] == "none"
    assert unanswered.grade == "none" and unanswered.message.startswith("资料库中没有找到")


def test_replies_name_what_they_read():
    from qa.answering.abstention import place

    assert place(["article.txt"], False) == "文章" and place(["my.pdf"], False) == "文本"
    assert place(["a.txt", "b.txt"], False) == place(["article.txt"], True) == "资料库"
