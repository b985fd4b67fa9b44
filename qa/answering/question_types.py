"""The one table of question types: what a question asks for, the answers its form admits, and
whether it is answered with a phrase (``span``) or with the sentence that holds it (``sentence``).

Every ``admits`` rule was checked on gold answers it must not reject (CMRC 2018 dev, squad2_zh
dev, the article's set): the study ``eval/answer_types.py`` (in the history at 2c0ea6b) counted,
per question type, how many gold answers each rule would turn away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

# why (为什么要…, 是因为什么？), not 为+什么 "as what" (被称为什么？ 改名为什么？ 称为什么时期？ 成为什么的一部分？)
WHY = re.compile(r"(?<![称名译作成叫视分封定列])为什么(?=[^的？?\s])|因为什么|为何|原因|缘故")
WHEN_QUESTION = re.compile(r"什么时候|什么时间|什么时期|何时|哪天|哪一天|几月|几号|哪个月|日期")  # not 哪年: that asks for the year alone
NUMERAL = re.compile(r"[\d零〇一二三四五六七八九十百千万亿两半数少]")  # 少: 很少, 极少
TIME_WORD = re.compile(r"[年月日时期代朝纪初底末季春夏秋冬周旬晚早前后间今昨明去]|[夏商周秦汉晋隋唐宋元明清]")  # and dynasties: 东汉
CURRENCY_WORDS = r"元|圆|美金|镑|欧|円|盾|币|法郎|马克|卢布|比索|卢比|里拉|[$¥￥£€]"
CURRENCY = re.compile(CURRENCY_WORDS)
BARE_AMOUNT = re.compile(r"^(?:约|近|超过)?[\d.,]+(?:万|亿)*$")
DATE_ONLY = re.compile(r"^(?:公元前?)?\d{1,4}(?:年|月|日|年代|世纪)(?:\d{1,2}(?:月|日))*(?:\d{1,2}日)?$")
# where the question asks something else (几个朝代中，哪个…; 几位科学家使用什么…), 几/多少 only counts along
OTHER_QUESTION = re.compile(r"什么|甚么|哪|谁|为何|怎么|如何|是否")


@dataclass(frozen=True)
class QuestionType:
    """A kind of question (``asks``, unless ``unless`` matches too), the answers it admits
    (``None``: any), and what it is answered with: ``span`` or ``sentence``."""

    name: str
    asks: re.Pattern
    admits: Callable[[str], bool] | None = None
    unless: re.Pattern | None = None
    answered_with: str = "span"

    def of(self, question: str) -> bool:
        return bool(self.asks.search(question)) and not (self.unless and self.unless.search(question))


QUESTION_TYPES = (
    # how many (多少, 几个…; not 第几, an ordinal: 首次, 次子): a numeral
    QuestionType("how_many", re.compile(r"多少|(?<![哪第])几(?=[个名家项次年月天日岁位种条座所件本辆台部层届万千百十])"), lambda a: bool(NUMERAL.search(a)), OTHER_QUESTION),
    # how much money (多少钱, 投资了多少…; not when the question names the currency: 花费多少越南盾):
    # a currency, or a bare amount (16.6), never a count of things (100万辆)
    QuestionType(
        "money",
        re.compile(rf"多少钱|金额(?:是|为)?多少|(?:投资|收入|营收|营业额|利润|融资|耗资|造价|成本|预算|价格|售价|资金)(?:额|了|为|是|达到?|约)?(?:多少|几)(?!.{{0,3}}(?:{CURRENCY_WORDS}))"),
        lambda a: bool(CURRENCY.search(a) or BARE_AMOUNT.match(a)),
        OTHER_QUESTION,
    ),
    # who: not a bare date
    QuestionType("who", re.compile(r"谁"), lambda a: not DATE_ONLY.match(a)),
    # when (哪天, 什么时候…): a numeral or a word of time (1月14日, 战国时期, 清朝, 去年), never a name
    QuestionType("when", WHEN_QUESTION, lambda a: bool(NUMERAL.search(a) or TIME_WORD.search(a)), re.compile(rf"谁|多少|哪里|哪儿|什么地方|{WHY.pattern}")),
    # Answered with the sentence that holds the answer, not a phrase (why, how, what is X, what
    # does it mean, what did it do): a clipped phrase loses the reason or the definition. Spans
    # stay for "怎样的/怎么样的" (a kind of thing: SDA让汽车发生了怎样的转变？), "X怎么样？/X如何？" (a
    # judgement: 水质指数如何？ 极佳), "X的Y是什么" and "X原名是什么" (a named attribute) and "有什么变化"
    # (数量有什么变化？ 越来越多). The first of these that matches names the question's kind.
    QuestionType("why", WHY, answered_with="sentence"),
    QuestionType("how", re.compile(r"(?:怎么|怎样)(?!样?的)(?!样?[？?]?$)|如何(?![？?]?$)"), answered_with="sentence"),  # not X怎么样？/X如何？
    QuestionType("definition", re.compile(r"^(?:什么是|何为|何谓)|^[^的，,。]{1,20}(?<!名)是什么[？?]?$"), answered_with="sentence"),  # not X原名是什么？
    QuestionType("meaning", re.compile(r"有什么(?:作用|意义|用处)|意味着什么|目的是什么"), answered_with="sentence"),
    QuestionType("deed", re.compile(r"(?:做了|能做|可以做)什么"), answered_with="sentence"),
)


def question_types(question: str) -> list[QuestionType]:
    """The types ``question`` asks for."""
    return [t for t in QUESTION_TYPES if t.of(question)]


def admits(question: str, answer: str) -> bool:
    """False for an answer whose form the question rules out (a how-many question answered
    without a numeral, a how-much-money one without a currency, a who-question by a date, a
    when-question by a name)."""
    return all(t.admits(answer) for t in question_types(question) if t.admits is not None)


def sentence_question(question: str) -> str | None:
    """The kind of sentence question ``question`` is (``why``, ``how``, ``definition``,
    ``meaning``, ``deed``), or ``None`` for a question answered with a phrase."""
    return next((t.name for t in QUESTION_TYPES if t.answered_with == "sentence" and t.asks.search(question)), None)


def asks_when(question: str) -> bool:
    """Whether the table reads ``question`` as a when-question."""
    return any(t.name == "when" for t in question_types(question))
