"""Words of Chinese text for keyword matching: jieba search-mode tokens without punctuation and question words."""

from __future__ import annotations

import logging
import marshal
import os
import re
import tempfile

_PUNCT = re.compile(r"^[\W_]+$")
# Question words and particles: frequent in questions, never the evidence.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 有 吗 呢 吧 啊 哪 哪些 哪个 哪家 哪里 哪年 什么 多少 几 几个 怎么 怎样 如何 为什么 为何 谁 何时 是否 这 那 其 之 被 把 将 对 中 上 下 年 月 日 个 家 项 条".split()
)


def load_dictionary(tokenizer=None) -> None:
    """Load the dictionary of jieba's ``tokenizer`` (default: jieba's own) once. A default
    dictionary is read from jieba's cache file in one piece: jieba unmarshals it from the open
    file, which is 3-4x slower (0.7-1.2 s against 0.22-0.35 s on a 2-core Xeon, holding the
    GIL). Without a readable cache, jieba's own path builds the dictionary and writes the cache."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = tokenizer or jieba.dt
    with tokenizer.lock:
        if tokenizer.initialized:
            return
        if tokenizer.dictionary == jieba.DEFAULT_DICT:  # the cache file jieba itself names
            cache = os.path.join(tokenizer.tmp_dir or tempfile.gettempdir(), tokenizer.cache_file or "jieba.cache")
            try:
                with open(cache, "rb") as f:
                    freq, total = marshal.loads(f.read())
                if isinstance(freq, dict) and isinstance(total, int) and freq:
                    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
            except (OSError, ValueError, EOFError, TypeError):  # missing or damaged: jieba rebuilds it
                pass
        tokenizer.initialize()  # nothing left to do when loaded above


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens, lower-cased, without punctuation and question words."""
    import jieba

    if not jieba.dt.initialized:
        load_dictionary()
    return [t for t in (w.strip().lower() for w in jieba.lcut_for_search(text)) if t and not _PUNCT.match(t) and t not in STOPWORDS]
