from pathlib import Path

import pytest

from qa.ingest.chunks import split_documents
from qa.ingest.corpus import BUNDLED_ARTICLE, CorpusError, Document, load_corpus
from tests.conftest import ROOT

SHARED_ARTICLE = ROOT.parent / "shared" / "corpus" / "article.txt"


@pytest.mark.skipif(not SHARED_ARTICLE.exists(), reason="../shared is not beside the checkout")
def test_bundled_article_is_byte_identical_to_the_shared_one():
    assert BUNDLED_ARTICLE.read_bytes() == SHARED_ARTICLE.read_bytes()


def test_every_chunk_of_the_article_keeps_its_offsets(article):
    docs = load_corpus()
    chunks = split_documents(docs)
    assert len(chunks) > 5
    for chunk in chunks:
        assert article[chunk.start : chunk.end] == chunk.text
        assert chunk.doc_id == docs[0].doc_id
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize("size,overlap", [(80, 0), (150, 40), (300, 0)])
def test_chunks_respect_size_and_cut_only_at_sentence_ends(article, size, overlap):
    chunks = split_documents([Document("a", article)], size, overlap)
    assert all(article[c.start : c.end] == c.text and len(c.text) <= size for c in chunks)
    # every chunk ends at a sentence end or a line break, unless a single sentence is longer than the chunk
    for c in chunks:
        if c.end < len(article):
            ends_sentence = c.text[-1] in "。！？；”’」』）" or article[c.end] == "\n"
            assert ends_sentence or size < 150, c.text[-20:]


def test_a_sentence_longer_than_the_chunk_size_is_the_only_thing_cut():
    text = "短句一。" + "很" * 50 + "长的句子。" + "短句二。"
    chunks = split_documents([Document("d", text)], chunk_size=20, chunk_overlap=0)
    assert all(text[c.start : c.end] == c.text and len(c.text) <= 20 for c in chunks)
    assert chunks[0].text == "短句一。"
    assert chunks[-1].text.endswith("短句二。")


def test_folder_corpus_reads_txt_and_md(tmp_path):
    (tmp_path / "a.txt").write_text("第一篇。", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# 标题\n第二篇。", encoding="utf-8")
    (tmp_path / "c.bin").write_bytes(b"\x00\x01")
    docs = load_corpus([tmp_path])
    assert [Path(d.doc_id).name for d in docs] == ["a.txt", "b.md"]


@pytest.mark.parametrize(
    "content,needle",
    [(b"\xff\xfe\x00\x00bad", "not UTF-8"), (b"", "empty"), (b"  \n ", "empty"), (None, "no such file")],
)
def test_bad_corpus_files_raise_a_clear_error(tmp_path, content, needle):
    path = tmp_path / "doc.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CorpusError, match=needle) as info:
        load_corpus([path])
    assert str(path) in str(info.value)
