"""The check every question passes first, and the script it is read in: a Traditional question
about a Simplified text is read in Simplified (:mod:`qa.text.chinese_script`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qa.conversation.follow_ups import Turn, as_turns
from qa.text.chinese_script import in_script_of


def check_question(question: str, max_chars: int) -> str:
    """The stripped question; ``ValueError`` when it is empty or over ``max_chars``."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("问题不能为空 (the question is empty)")
    question = question.strip()
    if len(question) > max_chars:
        raise ValueError(f"问题太长：最多 {max_chars} 个字符 (the question has {len(question)} characters, the limit is {max_chars})")
    return question


@dataclass(frozen=True)
class QuestionCheck:
    """Questions (and earlier turns) as they are read over texts in ``script`` (``simplified``,
    ``traditional``, or ``None`` for a mix: as asked)."""

    max_chars: int
    script: str | None

    def __call__(self, question: str) -> tuple[str, str]:
        """The checked question as asked, and as it is read (長安汽車… -> 长安汽车… over a Simplified text, and back over a Traditional one)."""
        asked = check_question(question, self.max_chars)
        return asked, in_script_of(asked, self.script)

    def turns(self, history) -> list[Turn]:
        """The earlier turns (:func:`qa.conversation.follow_ups.as_turns`), their questions read in the text's script."""
        return [replace(t, question=in_script_of(t.question, self.script)) for t in as_turns(history)]
