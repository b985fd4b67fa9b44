import numpy as np
import pytest

from qa.answer_form import complete_date, sentence_bounds, trim_span
from qa.e5 import encode
from qa.reader import READER_WEIGHTS, decode, encode_windows, span_margin
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

    from qa.e5 import ensure_model

    base = load_file(ensure_model() / "model.safetensors")
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
    reading = reader.run("长安汽车是哪天宣布新能源年销量破百万的？", [context])
    assert (reading.best.text, reading.best.start, reading.best.end) == ("2025年12月20日", 0, len("2025年12月20日"))
    spans = [(s.context_index, s.start, s.end) for s in reading.spans]
    assert len(spans) == len(set(spans))  # "2025年" completed is not listed twice


@pytest.mark.parametrize(
    ("question", "context", "span", "completed"),
    [("什么时候考察的？", "2024年4月，", "2024年", "2024年4月"), ("哪天宣布的？", "于12月20日，", "12月", "12月20日"),
     ("哪天宣布的？", "2025年12月20日", "2025年", "2025年12月20日"), ("哪一年考察的？", "2024年4月", "2024年", "2024年"),
     ("什么时候考察的？", "2024年4月，今年", "4月", "4月"), ("什么时候？", "今年4月", "今年", "今年")],
)
def test_complete_date_only_for_when_questions_cut_inside_a_date(question, context, span, completed):
    start = context.index(span)
    end = complete_date(question, context, start + len(span))
    assert context[start:end] == completed


def test_decode_keeps_to_context_tokens_order_and_length(reader):
    tok = reader.tokenizer
    contexts = ["重庆新增5家产业创新综合体，全市总数达18家。"]
    enc = encode_windows(tok, ["新增几家？"], contexts)
    n = enc.input_ids.shape[1]
    start = np.zeros((1, n), dtype=np.float32)
    end = np.zeros((1, n), dtype=np.float32)
    start[0, 2] = end[0, 1] = 50.0  # strongest logits sit in the question: must be ignored
    ctx = list(np.flatnonzero(enc.context[0]))
    start[0, ctx[5]] = 10.0
    end[0, ctx[2]] = 10.0  # end before start: invalid
    end[0, ctx[6]] = 5.0
    best = decode(enc, start, end, contexts).best
    offsets = enc.offsets[0]
    assert (best.start, best.end) == (offsets[ctx[5]][0], offsets[ctx[6]][1])
    # a span longer than max_answer_tokens is never returned
    spans = decode(enc, start, end, contexts, top_n=50, max_answer_tokens=2).spans
    assert all(len(encode(tok, [s.text], special_tokens=False)[0].ids) <= 3 for s in spans)


def test_no_contexts_gives_no_spans(reader):
    assert reader.run(QUESTION, []).best is None


def test_reader_shares_the_retrievers_tokenizer_and_word_embeddings(assistant):
    embedder = assistant.retriever.embedder
    assert assistant.reader.tokenizer is embedder.tokenizer
    assert assistant.reader.word_embeddings is embedder.word_embeddings
    assert assistant.reader.model.bert.embeddings.word_embeddings.table is embedder.word_embeddings


@pytest.mark.parametrize(
    ("span", "trimmed"),
    [("“需求侧", "需求侧"), ("需求侧”，", "需求侧"), ("《规划》", "《规划》"), ("“416”科技创新布局", "“416”科技创新布局"),
     (" 100万辆。", "100万辆"), ("（SiC", "SiC"), ("，。", "")],
)
def test_trim_span_drops_edge_punctuation_and_unpaired_quotes(span, trimmed):
    text = "前" + span + "后"
    a, b = trim_span(text, 1, 1 + len(span))
    assert text[a:b] == trimmed


def test_span_margin_scores_a_character_span_against_its_windows_no_answer(reader):
    context = "重庆新增5家产业创新综合体，全市总数达18家。"
    enc = encode_windows(reader.tokenizer, ["新增几家？"], [context])
    n = enc.input_ids.shape[1]
    start, end = np.zeros((1, n), dtype=np.float32), np.zeros((1, n), dtype=np.float32)
    start[0, 0], end[0, 0] = 1.0, 2.0  # the window's no-answer score: 3
    offsets = enc.offsets[0]
    ctx = list(np.flatnonzero(enc.context[0]))
    first = next(i for i in ctx if offsets[i][0] <= context.index("5家") < offsets[i][1])
    last = next(i for i in ctx if offsets[i][0] < context.index("5家") + 2 <= offsets[i][1])
    start[0, first], end[0, last] = 7.0, 6.0
    a = context.index("5家")
    assert span_margin(enc, start, end, 0, a, a + 2) == 10.0
    assert span_margin(enc, start, end, 1, a, a + 2) is None  # no such context


def test_span_cut_by_every_window_edge_has_no_margin(reader, article):
    enc = encode_windows(reader.tokenizer, [QUESTION], [article[:2000]], max_length=64, stride=16)
    zeros = np.zeros(enc.input_ids.shape, dtype=np.float32)
    assert span_margin(enc, zeros, zeros, 0, 0, 1500) is None  # longer than any window
    assert span_margin(enc, zeros, zeros, 0, 100, 102) == 0.0


def test_sentence_bounds():
    text = "第一句。  第二句有答案，还有半句；第三句"
    a = text.index("答案")
    assert text[slice(*sentence_bounds(text, a, a + 2))] == "第二句有答案，还有半句；"
    assert text[slice(*sentence_bounds(text, 0, 2))] == "第一句。"


def test_reread_ranks_by_the_mean_of_chunk_and_sentence_margins(assistant, reader):
    question = "“人工智能+”行动方案推动人工智能与什么双向赋能？"
    contexts = [h.text for h in assistant.retriever.search(question, k=3)]
    plain = reader.run(question, contexts, reread=False)
    (reread,) = reader.read_sentences([(question, contexts)], [plain])
    assert plain.best.text == "制造业应用"  # the chunk view picks the wrong plan's partner
    assert reread.best.text == "数字重庆"  # read in its own sentence, the right one wins
    assert contexts[reread.best.context_index][reread.best.start : reread.best.end] == "数字重庆"
    assert all(s.sentence_score is not None for s in reread.spans)
    ranks = [s.rank_score for s in reread.spans]
    assert ranks == sorted(ranks, reverse=True)
    assert reread.best.rank_score == pytest.approx((reread.best.score + reread.best.sentence_score) / 2)
    assert {(s.start, s.end, s.score) for s in reread.spans} == {(s.start, s.end, s.score) for s in plain.spans}


def test_a_settled_reading_is_not_read_again(reader, article):
    from qa.reader import Reading, Span

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
    batched = reader.run_batch(items)
    alone = [reader.run(q, contexts) for q, contexts in items]
    assert [r.best and (r.best.text, r.best.context_index, r.best.start) for r in batched] == [r.best and (r.best.text, r.best.context_index, r.best.start) for r in alone]
    assert [r.best.text if r.best else None for r in batched] == ["100万辆", "2025年12月20日", None, "100万辆"]
    for b, a in zip(batched, alone):
        assert [s.score for s in b.spans] == pytest.approx([s.score for s in a.spans], abs=1e-3)
