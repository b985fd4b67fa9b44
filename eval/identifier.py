"""The identifier text: 1,500 near-identical lines that differ only in their numbers, as news
differs in dates, amounts and codes (issue: fusion that keeps a decisive hit). Dense ranking is
noise for them; only the numbers, i.e. keywords, tell them apart."""

from __future__ import annotations

# (question, gold answer, the words that mark the asked line)
QUESTIONS = [
    ("青石镇第1234号水电站的装机容量是多少？", "2234千瓦", "第1234号水电站"),
    ("第888号水电站的站长是谁？", "王888号", "第888号水电站"),
]


def identifier_text(lines: int = 1500) -> str:
    """``lines`` lines of about 49 characters (73,000 characters for 1,500)."""
    return "\n".join(f"第{n}段：青石镇第{n}号水电站位于山区，装机容量为{n + 1000}千瓦，站长是王{n}号。" for n in range(1, lines + 1))
