"""Words of Chinese text for keyword matching: jieba search-mode tokens without punctuation and question words."""

from __future__ import annotations

import logging
import re

_PUNCT = re.compile(r"^[\W_]+$")
# Question words and particles: frequent in questions, never the evidence.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 有 吗 呢 吧 啊 哪 哪些 哪个 哪家 哪里 哪年 什么 多少 几 几个 怎么 怎样 如何 为什么 为何 谁 何时 是否 这 那 其 之 被 把 将 对 中 上 下 年 月 日 个 家 项 条".split()
)


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens, lower-cased, without punctuation and question words."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [t for t in (w.strip().lower() for w in jieba.lcut_for_search(text)) if t and not _PUNCT.match(t) and t not in STOPWORDS]
