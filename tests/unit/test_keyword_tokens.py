"""Keyword tokens: jieba's dictionary read from its cache file in one piece gives jieba's own
dictionary and tokens; without a cache, or with a damaged one, jieba's own path builds it."""

import jieba

from qa.text.segment import STOPWORDS, load_dictionary, tokenize

TEXT = "重庆市科技局推动创新链与产业链深度融合，长安汽车新能源汽车年销量突破100万辆。"


def fresh(tmp_path) -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(tmp_path)  # its cache file lives here, not in the system's temporary folder
    return tokenizer


def test_the_dictionary_from_the_cache_is_jiebas_own_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    built = fresh(tmp_path)
    load_dictionary(built)  # no cache yet: jieba builds the dictionary and writes the cache
    cache = tmp_path / "jieba.cache"
    assert built.initialized and cache.is_file()
    cached = fresh(tmp_path)
    slow = []
    with monkeypatch.context() as m:
        m.setattr(jieba.marshal, "load", lambda f: slow.append(f))  # jieba's own, slower read
        load_dictionary(cached)
    assert slow == []
    assert cached.FREQ is not built.FREQ and (cached.FREQ, cached.total) == (built.FREQ, built.total)
    assert cached.lcut_for_search(TEXT) == built.lcut_for_search(TEXT)
    cache.write_bytes(b"\x00not a marshal file")
    damaged = fresh(tmp_path)
    load_dictionary(damaged)
    assert damaged.total == built.total and damaged.lcut_for_search(TEXT) == built.lcut_for_search(TEXT)


def test_tokens_drop_punctuation_and_question_words():
    tokens = tokenize("长安汽车的新能源汽车年销量是多少？")
    assert "长安" in tokens and "销量" in tokens
    assert not STOPWORDS & set(tokens) and "？" not in tokens
