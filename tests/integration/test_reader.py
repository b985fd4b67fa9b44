import numpy as np
import pytest

from functools import partial

from qa.answering.pipeline import shape
from qa.reading.reader import READER_WEIGHTS
from tests.conftest import QUESTION


@pytest.fixture(scope="session")
def reader(assistant):
    return assistant.reader


def test_overlay_covers_every_trained_tensor(reader):
    from safetensors import safe_open

    with safe_open(READER_WEIGHTS, "pt") as f:
        shipped = set(f.keys())
        assert {f.get_slice(k).get_dtype() for k in shipped} == {"F16"}
    trainable = {n for n, p in reader.model.named_parameters() if p.requires_grad}
    assert shipped == trainable == set(reader.model.state_dict())  # the 4-bit word embeddings are buffers, not state
    assert "qa_outputs.weight" in shipped and "bert.embeddings.word_embeddings.weight" not in shipped
    assert READER_WEIGHTS.stat().st_size <= 50 * 2**20


def test_overlay_changed_the_base_encoder(reader):
    from safetensors.torch import load_file

    from qa.encoders.e5.model_files import ensure_model

    base = load_file(ensure_model(reader.cache) / "model.safetensors")
    shipped = load_file(READER_WEIGHTS)
    name = "encoder.layer.11.output.dense.weight"
    assert not np.allclose(base[name].numpy(), shipped["bert." + name].float().numpy(), atol=1e-3)


def test_reader_answers_a_real_question_with_offsets(reader, article):
    contexts = [article[3038:3201], article[2551:2716]]  # the answer is in the second one
    reading = reader.run(QUESTION, contexts)
    best = reading.best
    assert best.text == "100万辆" and best.context_index == 1
    assert contexts[1][best.start : best.end] == best.text
    assert best.score > 0  # preferred to "no answer" in its window
    assert [s.rank_score for s in reading.spans] == sorted((s.rank_score for s in reading.spans), reverse=True)  # read twice
    once = reader.run(QUESTION, contexts, reread=False)
    assert once.best.text == "100万辆" and all(s.sentence_score is None for s in once.spans)
    assert [s.score for s in once.spans] == sorted((s.score for s in once.spans), reverse=True)


def test_answer_found_in_a_later_window_of_a_long_context(reader, article):
    long_context = article[:2700]  # well over one 384-token window; the answer is near the end
    reading = reader.run(QUESTION, [long_context])
    assert reading.best.text == "100万辆"
    assert long_context[reading.best.start : reading.best.end] == "100万辆"


def test_when_question_gets_the_whole_date(reader, article):
    at = article.index("2025年12月20日")
    context = article[at : at + 120]
    question = "长安汽车是哪天宣布新能源年销量破百万的？"
    assert reader.run(question, [context]).best.text != "2025年12月20日"  # raw: the reader alone stops inside the date
    reading = reader.run(question, [context], shape=partial(shape, question))  # the answer pipeline's shaping steps
    assert (reading.best.text, reading.best.start, reading.best.end) == ("2025年12月20日", 0, len("2025年12月20日"))
    spans = [(s.context_index, s.start, s.end) for s in reading.spans]
    assert len(spans) == len(set(spans))  # "2025年" completed is not listed twice


def test_no_contexts_gives_no_spans(reader):
    assert reader.run(QUESTION, []).best is None


def test_reader_shares_the_retrievers_tokenizer_and_word_embeddings(assistant):
    embedder = assistant.retriever.embedder
    assert assistant.reader.tokenizer is embedder.tokenizer
    assert assistant.reader.word_embeddings is embedder.word_embeddings
    assert assistant.reader.model.bert.embeddings.word_embeddings.table is embedder.word_embeddings


def test_reread_ranks_by_the_mean_of_chunk_and_sentence_margins(assistant, reader):
    question = "“人工智能+”行动方案推动人工智能与什么双向赋能？"
    contexts = [h.text for h in assistant.retriever.search(question, k=3)]
    plain = reader.run(question, contexts, reread=False)
    (reread,) = reader.read_sentences([(question, contexts)], [plain])
    assert reread.best.text == "数字重庆"  # the gold answer, read in its own sentence
    assert contexts[reread.best.context_index][reread.best.start : reread.best.end] == "数字重庆"
    assert all(s.sentence_score is not None for s in reread.spans)
    ranks = [s.rank_score for s in reread.spans]
    assert ranks == sorted(ranks, reverse=True)
    assert reread.best.rank_score == pytest.approx((reread.best.score + reread.best.sentence_score) / 2)
    assert {(s.start, s.end, s.score) for s in reread.spans} == {(s.start, s.end, s.score) for s in plain.spans}


def test_a_settled_reading_is_not_read_again(reader, article):
    from qa.types import Reading, Span

    context = article[2551:2716]
    a = context.index("100万辆")
    spans = lambda runner_up: [Span("100万辆", 0, a, a + 5, 9.0), Span("100万", 0, a, a + 4, runner_up)]  # noqa: E731
    settled, close = Reading(spans(9.0 - reader.settled_gap - 0.1)), Reading(spans(9.0 - reader.settled_gap + 0.1))
    items = [(QUESTION, [context])] * 3
    kept, reread, alone = reader.read_sentences(items, [settled, close, close])
    assert kept == settled  # no sentence scores: the leader was far enough ahead
    assert all(s.sentence_score is not None for s in reread.spans) and reread == alone
    assert reader.read_sentences(items[:1], [settled])[0] == settled


def test_a_batch_of_questions_reads_as_each_question_alone(reader, article):
    items = [(QUESTION, [article[3038:3201], article[2551:2716]]), ("长安汽车是哪天宣布新能源年销量破百万的？", [article[2551:2716]]), ("没有段落", []), (QUESTION, [article[:2700]])]
    batched = reader.run_batch(items, shaper=lambda q: partial(shape, q))
    alone = [reader.run(q, contexts, shape=partial(shape, q)) for q, contexts in items]
    assert [r.best and (r.best.text, r.best.context_index, r.best.start) for r in batched] == [r.best and (r.best.text, r.best.context_index, r.best.start) for r in alone]
    assert [r.best.text if r.best else None for r in batched] == ["100万辆", "2025年12月20日", None, "100万辆"]
    for b, a in zip(batched, alone):
        assert [s.score for s in b.spans] == pytest.approx([s.score for s in a.spans], abs=1e-3)
