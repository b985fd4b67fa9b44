"""Training data preparation: answer labels on windows, retrieved distractors, answer removals."""

import random

import pytest

from qa.ingest.squad_files import Example
from qa.training.config import TrainConfig
from qa.training.data import distractors, label_windows, removals
from tests.conftest import QUESTION


@pytest.fixture(scope="module")
def tokenizer(embedder):
    return embedder.tokenizer


@pytest.fixture(scope="module")
def paragraphs(article) -> list[str]:
    return [p for p in article.split("\n") if len(p) > 40]


def answered(paragraphs) -> Example:
    context = next(p for p in paragraphs if "100万辆" in p)
    return Example("q1", QUESTION, context, (("100万辆", context.index("100万辆")),))


def test_label_windows_points_at_the_answer_tokens(tokenizer, paragraphs):
    example = answered(paragraphs)
    ids, starts, ends = label_windows(tokenizer, [example], TrainConfig(negative_rate=0.0), random.Random(0))
    assert len(ids) == 1 and 0 < starts[0] <= ends[0]
    assert tokenizer.decode(ids[0][starts[0] : ends[0] + 1]).strip() == "100万辆"


def test_distractor_is_an_other_context_without_the_answer(paragraphs):
    example = answered(paragraphs)
    others = [Example(f"o{i}", "无关的问题", p, (("重庆", p.index("重庆")),)) for i, p in enumerate(paragraphs) if "重庆" in p and p != example.context]
    found = distractors([example, *others], rate=1.0, rng=random.Random(0))
    mine = next(d for d in found if d.id == "q1-distractor")
    assert mine.question == QUESTION and mine.answers == ()
    assert mine.context != example.context and mine.context in paragraphs and "100万辆" not in mine.context
    assert "长安" in mine.context or "汽车" in mine.context  # on topic: BM25's best other passage


def test_a_distractor_adds_one_window_labelled_no_answer(tokenizer, article):
    long_context = article[:2700]  # several 256-token windows
    example = Example("d", QUESTION, long_context, ())
    ids, starts, ends = label_windows(tokenizer, [example] * 20, TrainConfig(), random.Random(0))
    assert len(ids) == 20 and not starts.any() and not ends.any()


def test_removal_cuts_the_answer_sentence_and_keeps_the_rest():
    context = "长安汽车宣布新能源汽车年销量突破100万辆。这一成就源于创新投入；研发团队超过一万人。"
    example = Example("q1", QUESTION, context, (("100万辆", context.index("100万辆")),))
    (removed,) = removals([example], rate=1.0, rng=random.Random(0))
    assert removed == Example("q1-removed", QUESTION, "这一成就源于创新投入；研发团队超过一万人。", ())
    repeated = Example("q2", QUESTION, context + "再说一遍：100万辆。", example.answers)
    assert removals([repeated], rate=1.0, rng=random.Random(0)) == []  # the answer survives elsewhere: no negative


def test_every_window_of_an_unanswerable_question_is_labelled_no_answer(tokenizer, article):
    long_context = article[:2700]  # several 256-token windows
    impossible = Example("u", "长安汽车2025年出口了多少辆？", long_context, (), impossible=True)
    ids, starts, ends = label_windows(tokenizer, [impossible], TrainConfig(max_length=256, stride=96), random.Random(0))
    assert len(ids) > 3 and (starts == -1).all() and (ends == -1).all()


def test_squad2_files_load_unanswerable_questions(tmp_path):
    import json

    from qa.ingest.squad_files import load_squad

    data = {"data": [{"paragraphs": [{"context": "甲乙丙", "qas": [
        {"id": "a", "question": "问？", "answers": [{"text": "乙", "answer_start": 1}], "is_impossible": False},
        {"id": "u", "question": "问？", "answers": [], "plausible_answers": [{"text": "丙", "answer_start": 2}], "is_impossible": True},
    ]}]}]}
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    a, u = load_squad(path)
    assert (a.answers, a.impossible) == ((("乙", 1),), False)
    assert (u.answers, u.impossible) == ((), True)


def test_unanswerable_windows_teach_only_the_answerability_head(tmp_path):
    import torch

    from qa.encoders.reader_backends import READER_WEIGHTS, load_model
    from qa.encoders.e5.model_files import load_word_embeddings
    from qa.settings import defaults
    from qa.training.train import HEAD_FILE, batch_loss, export_overlay, load_trainable

    cache = defaults().cache
    model = load_trainable(cache, None, answerable=True)
    ids = torch.tensor([[0, 100, 200, 2, 2, 300, 400, 2]] * 2)
    mask = torch.ones_like(ids)
    impossible = torch.tensor([-1, -1])
    head_only = batch_loss(model, ids, mask, impossible, impossible, 1.0)
    logit = model.answerable(model.bert(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]).squeeze(-1)
    assert torch.allclose(head_only, torch.nn.functional.binary_cross_entropy_with_logits(logit, torch.zeros(2)))
    answered = batch_loss(model, ids, mask, torch.tensor([5, -1]), torch.tensor([6, -1]), 1.0)
    start, end = model(input_ids=ids[:1], attention_mask=mask[:1]).to_tuple()[:2]
    span = (torch.nn.functional.cross_entropy(start, torch.tensor([5])) + torch.nn.functional.cross_entropy(end, torch.tensor([6]))) / 2
    assert torch.allclose(answered, span + torch.nn.functional.binary_cross_entropy_with_logits(logit, torch.tensor([1.0, 0.0])), atol=1e-5)
    assert batch_loss(model, ids, mask, impossible, impossible, 0.0) > 0  # without the head: CLS targets
    export_overlay(model, tmp_path / "reader.safetensors")
    assert (tmp_path / HEAD_FILE).is_file()
    reloaded = load_trainable(cache, tmp_path / "reader.safetensors")  # the head beside the overlay comes back
    assert torch.allclose(reloaded.answerable.weight, model.answerable.weight.half().float())
    plain = load_model(cache, tmp_path / "reader.safetensors", load_word_embeddings(cache))  # the answering path never sees the head
    assert not hasattr(plain, "answerable")
    assert not hasattr(load_trainable(cache, READER_WEIGHTS), "answerable")
