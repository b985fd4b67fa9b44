
import pytest

from tests.conftest import QUESTION


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_the_chunk_with_the_answer_is_in_the_top_3(retriever, mode):
    hits = retriever.search(QUESTION, k=3, mode=mode)
    assert any("100万辆" in h.text for h in hits)


def test_hits_carry_offsets_ranks_and_scores(retriever, article):
    hits = retriever.search(QUESTION, k=5)
    assert len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert article[h.start : h.end] == h.text and h.doc_id == "article.txt"
        assert h.dense_rank or h.bm25_rank


def test_library_interface_on_the_bundled_article():
    from qa import Retriever

    hits = Retriever().search("长安汽车新能源汽车年销量突破了多少？", k=5)
    assert "100万辆" in hits[0].text
    assert {"text", "doc_id", "start", "end", "score"} <= set(vars(hits[0]))


def test_retriever_on_a_user_corpus(tmp_path, embedder):
    from qa.retrieval.retriever import Retriever

    (tmp_path / "a.txt").write_text("成都大熊猫基地位于成华区。\n\n重庆火锅以牛油锅底著称。", encoding="utf-8")
    (tmp_path / "b.md").write_text("# 西安\n西安有兵马俑。", encoding="utf-8")
    r = Retriever(corpus=[tmp_path], embedder=embedder)
    assert "兵马俑" in r.search("兵马俑在哪座城市？", k=1)[0].text
    assert "牛油" in r.search("重庆火锅用什么锅底？", k=1)[0].text


def test_bad_arguments(retriever):
    with pytest.raises(ValueError):
        retriever.search("  ")
    with pytest.raises(ValueError):
        retriever.search(QUESTION, mode="sparse")
