"""What an answer may look like: edges, dates, sentences, and the forms a question admits.

Every rule here was checked on gold answers it must not reject (CMRC 2018 dev, squad2_zh
dev, the article's set): the study ``eval/answer_types.py`` (in the history at 2c0ea6b) counted, per question type, how many
gold answers each rule would turn away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EDGE_PUNCTUATION = frozenset("，。、；：！？,.;:!?")  # never the first or last character of an answer
PAIRS = {"“": "”", "‘": "’", "《": "》", "（": "）", "(": ")", "「": "」", "【": "】"}  # kept only when both ends are in the answer
CLOSERS = {close: open_ for open_, close in PAIRS.items()}
# why (为什么要…, 是因为什么？), not 为+什么 "as what" (被称为什么？ 改名为什么？ 称为什么时期？ 成为什么的一部分？)
WHY = re.compile(r"(?<![称名译作成叫视分封定列])为什么(?=[^的？?\s])|因为什么|为何|原因|缘故")
WHEN_QUESTION = re.compile(r"什么时候|什么时间|什么时期|何时|哪天|哪一天|几月|几号|哪个月|日期")  # not 哪年: that asks for the year alone
DATE_REST = {"年": re.compile(r"\d{1,2}月(?:\d{1,2}日)?"), "月": re.compile(r"\d{1,2}日")}
SENTENCE_END = re.compile(r"[。！？；!?;\n]")
FULL_STOP = re.compile(r"[。！？!?\n]")  # a sentence's end, not a semicolon's
SENTENCE_WINDOW = 256  # characters first searched back for a sentence's start (ends are single characters)

NUMERAL = re.compile(r"[\d零〇一二三四五六七八九十百千万亿两半数少]")  # 少: 很少, 极少
CLAUSE_BREAK = re.compile(r"[，,；;：:]")
TIME_WORD = re.compile(r"[年月日时期代朝纪初底末季春夏秋冬周旬晚早前后间今昨明去]|[夏商周秦汉晋隋唐宋元明清]")  # and dynasties: 东汉
CURRENCY_WORDS = r"元|圆|美金|镑|欧|円|盾|币|法郎|马克|卢布|比索|卢比|里拉|[$¥￥£€]"
CURRENCY = re.compile(CURRENCY_WORDS)
BARE_AMOUNT = re.compile(r"^(?:约|近|超过)?[\d.,]+(?:万|亿)*$")
DATE_ONLY = re.compile(r"^(?:公元前?)?\d{1,4}(?:年|月|日|年代|世纪)(?:\d{1,2}(?:月|日))*(?:\d{1,2}日)?$")


@dataclass(frozen=True)
class QuestionType:
    """A kind of question (``asks``, unless ``unless`` matches too) and the answers it admits."""

    name: str
    asks: re.Pattern
    admits: object  # Callable[[str], bool]
    unless: re.Pattern | None = None

    def of(self, question: str) -> bool:
        return bool(self.asks.search(question)) and not (self.unless and self.unless.search(question))


# where the question asks something else (几个朝代中，哪个…; 几位科学家使用什么…), 几/多少 only counts along
OTHER_QUESTION = re.compile(r"什么|甚么|哪|谁|为何|怎么|如何|是否")
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
)


def question_types(question: str) -> list[QuestionType]:
    """The types ``question`` asks for."""
    return [t for t in QUESTION_TYPES if t.of(question)]


def admits(question: str, answer: str) -> bool:
    """False for an answer whose form the question rules out (a how-many question answered
    without a numeral, a how-much-money one without a currency, a who-question by a date, a
    when-question by a name)."""
    return all(t.admits(answer) for t in question_types(question))


# tails the gold convention leaves out, measured on CMRC 2018 dev predictions (eval/edges.py, in the history at 2c0ea6b):
# a verb after a date (2002年开始 -> 2002年: 10 exact matches more of 3,219, none fewer) and the
# noun after a list's 等 (…薄弱等问题 -> …薄弱等: the gold keeps 等; dropping a bare 等 lost more than it won)
DROPPED_TAIL = re.compile(r"(?:(?<=[年月日])(?:开始|起|以来|满产|投产|建成|完成|至今)|(?<=..等)(?:领域|方面|方向|行业|产业|地区|国家|项目|内容|问题|部门|单位|企业|城市))$")


def trim_span(text: str, a: int, b: int) -> tuple[int, int]:
    """Narrow ``text[a:b]`` past edge spaces and punctuation, and past a quote or bracket
    whose partner is not inside the span (“需求侧 -> 需求侧, 《规划》 stays)."""
    while a < b:
        first, last = text[a], text[b - 1]
        if first.isspace() or first in EDGE_PUNCTUATION or (first in PAIRS and PAIRS[first] not in text[a + 1 : b]):
            a += 1
        elif last.isspace() or last in EDGE_PUNCTUATION or (last in CLOSERS and CLOSERS[last] not in text[a : b - 1]):
            b -= 1
        else:
            break
    return a, b


def complete_date(question: str, context: str, end: int) -> int:
    """For a "when" question, the end of a span that stops inside a date (2024年 of
    2024年4月, 12月 of 12月20日) moved to the end of that date; otherwise ``end``."""
    if end < 2 or not context[end - 2].isdigit() or context[end - 1] not in DATE_REST or not WHEN_QUESTION.search(question):
        return end
    rest = DATE_REST[context[end - 1]].match(context, end)
    return rest.end() if rest else end


def drop_tail(text: str, a: int, b: int) -> int:
    """The end of ``text[a:b]`` without a :data:`DROPPED_TAIL`."""
    tail = DROPPED_TAIL.search(text, a, b)
    return tail.start() if tail and tail.start() > a else b


def time_clause(question: str, context: str, a: int, b: int) -> int:
    """The end of a when-question's span at its first clause break when the time lies before it
    (1月14日，重庆科技发展战略研究院 -> 1月14日); a question the type table does not read as a
    when-question (为什么…日期？) keeps its span."""
    if not any(t.name == "when" for t in question_types(question)):
        return b
    cut = CLAUSE_BREAK.search(context, a, b)
    return cut.start() if cut and (NUMERAL.search(context, a, cut.start()) or TIME_WORD.search(context, a, cut.start())) else b


def shape_span(question: str, context: str, a: int, b: int) -> tuple[int, int]:
    """A raw span's edges after the rules: a when-answer cut to its time clause, trimmed, a
    dropped tail cut, then a date completed."""
    a, b = trim_span(context, a, time_clause(question, context, a, b))
    if a < b:
        a, b = trim_span(context, a, drop_tail(context, a, b))
    return (a, complete_date(question, context, b)) if a < b else (a, b)


def sentence_bounds(text: str, start: int, end: int, ends: re.Pattern = SENTENCE_END) -> tuple[int, int]:
    """``[left, right)`` of the sentence(s) of ``text`` holding ``[start, end)``, leading spaces
    skipped; ``ends``: what ends a sentence, one character (default: a full stop, a semicolon or
    a line break)."""
    left, reach, window = 0, start, SENTENCE_WINDOW
    while reach > 0:  # the last end before ``start``, looked for backwards in windows that double
        low = max(0, reach - window)
        found = [m.end() for m in ends.finditer(text, low, reach)]
        if found:
            left = found[-1]
            break
        reach, window = low, 2 * window
    right = next((m.end() for m in ends.finditer(text, end)), len(text))
    while left < start and text[left].isspace():
        left += 1
    return left, right


IDENTIFIER = re.compile(r"[0-9A-Za-z]*[0-9][0-9A-Za-z]*")  # a number or a code with digits: 888, G20, 5G


def anchored(question: str, text: str, start: int, end: int) -> bool:
    """Whether the sentence of ``text`` holding ``[start, end)`` names every number and code of
    the question (each whole: 888 is not in 1888); true for a question that names none. Among
    near-identical sentences (站长是王888号。站长是王889号。) the question's numbers tell which."""
    names = set(IDENTIFIER.findall(question))
    if not names:
        return True
    left, right = sentence_bounds(text, start, end)
    return all(re.search(rf"(?<![0-9A-Za-z]){re.escape(n)}(?![0-9A-Za-z])", text[left:right]) for n in names)


LIST_ITEM = re.compile(r"([^（）()、，,。；;：:\s]+)[（(]([^（）()]+)[）)]")  # 重庆理工大学（智慧光电）


def named_item(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """Of an answer that lists items with their attributes in brackets (A（a）、B（b）), the
    attribute of the one item the question names; any other answer as it is."""
    items = list(LIST_ITEM.finditer(text, start, end))
    named = [m for m in items if m.group(1) in question]
    return named[0].span(2) if len(items) > 1 and len(named) == 1 else (start, end)


CHANGE_QUESTION = re.compile(r"(?:有|发生了?|出现了?)(?:什么|哪些|怎样的)(?:变化|转变|改变)")
CHANGE_TO = re.compile(r"转向|转变为|变为|变成|进化成|走向|到")


def change_origin(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """For a question about a change (…有什么变化？), an answer that says what it became
    (传统要素驱动加快转向创新驱动…) begins at the 从 of its clause that says what it was
    (从主要依靠传统要素驱动…); any other answer as it is."""
    if not CHANGE_QUESTION.search(question) or not CHANGE_TO.search(text, start, end):
        return start, end
    origin = text.rfind("从", 0, start)
    in_clause = origin >= 0 and not CLAUSE_BREAK.search(text, origin, start) and not SENTENCE_END.search(text, origin, start)
    return (origin if in_clause else start), end


# "respectively": 以A和B为X和Y, A和B分别为X和Y (A is X, B is Y); each part at most 40 characters
PART = r"[^，,。；;以]{1,40}?"
PAIRED = re.compile(rf"以(?P<a>{PART})(?:和|与|及)(?P<b>{PART})为(?P<x>{PART})(?:和|与|及)(?P<y>{PART})(?=[，,。；;]|$)"
                    rf"|(?P<a2>{PART})(?:和|与|及)(?P<b2>{PART})分别(?:为|是)(?P<x2>{PART})(?:和|与|及)(?P<y2>{PART})(?=[，,。；;]|$)")
PAIR_REACH = 200  # characters either side of the answer searched for its pair


def paired(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """Of an answer inside a "respectively" pair (以A和B为X和Y), the A or B that the X or Y the
    question names goes with ("需求侧"指什么？ -> B, not the other role); any other answer as it is."""
    left, right = sentence_bounds(text, start, end)
    for pair in PAIRED.finditer(text, max(left, start - PAIR_REACH), min(right, end + PAIR_REACH)):
        if not (pair.start() <= start and end <= pair.end()):
            continue
        a, b, x, y = (pair.span(g) if pair.group(g) is not None else pair.span(g + "2") for g in "abxy")
        names = [text[slice(*role)].strip("“”\"'") for role in (x, y)]
        asked = [name in question for name in names]
        if asked.count(True) == 1:
            return trim_span(text, *(a if asked[0] else b))
    return start, end


def chosen_span(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """The edges of the span chosen as the answer, after the rules that read around it in its
    document: the item a list answer names (:func:`named_item`), the member of a "respectively"
    pair (:func:`paired`), then a change's origin (:func:`change_origin`)."""
    return change_origin(question, text, *paired(question, text, *named_item(question, text, start, end)))


def evidence_sentence(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence(s) of ``text`` around ``[start, end)``, and where they start."""
    left, right = sentence_bounds(text, start, end)
    return text[left:right].rstrip(), left
