"""The follow-up policy: when a question is asked alone, when with an earlier turn's help, and
which answer wins.

A self-contained question is answered alone. One that leans back (它, 其中, …呢？) is read as
the follow-up plans it (:func:`qa.conversation.follow_ups.follow_up`); one without such marks
is asked alone first and, only when that answer abstains, again as a follow-up (an elided
subject: "是哪天发布的？"), unless no passage holds its own content (``no_passage``: an earlier
turn's subject would not bring the missing words). Of the follow-up's readings the surest answer wins; an answer read
from a rewritten question names ``follow_up`` first in its rules.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from qa.conversation.follow_ups import Turn, follow_up, leans_back
from qa.types import Answer

# (the question for the reader, the text to search with, the earlier turn whose passage goes first) -> its answer
Respond = Callable[[str, str, Turn | None], Answer]


def answer_in_conversation(query: str, turns: list[Turn], respond: Respond) -> Answer:
    """The answer to ``query`` after ``turns`` (oldest first), each reading answered by ``respond``."""
    plan = follow_up(query, turns)
    answer = None
    if plan is None or not leans_back(query):  # self-contained, or maybe an elided subject: alone first
        answer = respond(query, query, None)
    if plan is not None and (answer is None or (answer.abstained and answer.abstained_because != "no_passage")):
        tried = [(asked, respond(asked, plan.search, plan.turn)) for asked in plan.readings]
        asked, surest = max(tried, key=lambda pair: (not pair[1].abstained, pair[1].confidence))
        if asked != query:
            surest = replace(surest, rules=("follow_up", *surest.rules))
        answer = surest if answer is None or not surest.abstained else answer
    return answer
