"""An answer given by pointing back (这份榜单) is read in the sentence before."""

from qa.answering.antecedent import antecedent, pointing_back
from qa.types import Span

TEXT = "1月14日，研究院发布十大科技进展。\n\n细看这份榜单，从柑橘机制到图像传感器；从传感器到天枢平台……都是突破。"


class NamingReader:
    """A reading (question, context -> best span) that answers "what is …" with ``answer`` where the context holds it, and records what it was asked."""

    def __init__(self, answer: str):
        self.answer, self.asked = answer, []

    def __call__(self, question, context):
        self.asked.append((question, context))
        at = context.find(self.answer)
        return Span(self.answer, 0, at, at + len(self.answer), -10.0) if at >= 0 else None


def test_the_phrase_that_points_back_is_the_one_naming_what_the_question_asks_for():
    assert pointing_back("天枢平台入选了哪份榜单？", "细看这份榜单，从柑橘机制到天枢平台") == "这份榜单"
    assert pointing_back("柑橘机制入选了什么榜单？", "该榜单收录了柑橘机制") == "该榜单"
    assert pointing_back("天枢平台入选了哪份榜单？", "天枢平台入选了十大科技进展") is None  # nothing points back
    assert pointing_back("天枢平台实现了什么级别？", "细看这份榜单") is None  # asks for something else


def test_an_answer_in_a_sentence_that_points_back_is_named_in_the_sentence_before():
    reader = NamingReader("十大科技进展")
    start = TEXT.index("天枢平台")  # past the semicolon: the sentence that points back ends at 。
    a, b = antecedent(reader, "天枢平台入选了哪份榜单？", TEXT, start, start + 4)
    assert TEXT[a:b] == "十大科技进展"
    assert reader.asked == [("这份榜单是什么？", "1月14日，研究院发布十大科技进展。\n\n")]
    assert antecedent(reader, "天枢平台是哪家的？", TEXT, start, start + 4) is None  # the question asks for no 榜单
    first = TEXT.index("十大")
    assert antecedent(reader, "研究院发布了哪份榜单？", TEXT, first, first + 6) is None  # its sentence points nowhere
    assert antecedent(NamingReader("没有"), "天枢平台入选了哪份榜单？", TEXT, start, start + 4) is None  # the reader finds nothing
