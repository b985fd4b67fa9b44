"""ONNX Runtime graphs: same numbers as torch, exported once, a damaged cache file redone."""

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForQuestionAnswering

from qa.runtime import OnnxEncoder

OUTPUTS = ("start_logits", "end_logits")


@pytest.fixture
def tiny_reader(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CACHE", str(tmp_path))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    return BertForQuestionAnswering(config).eval()


def torch_logits(model, ids, mask):
    with torch.inference_mode():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    return out.start_logits.numpy(), out.end_logits.numpy()


def test_graph_gives_torchs_logits_for_any_batch_and_length(tiny_reader):
    graph = OnnxEncoder(tiny_reader, OUTPUTS, "reader")
    rng = np.random.default_rng(0)
    for batch, tokens in ((1, 5), (3, 40)):
        ids = rng.integers(1, 100, (batch, tokens))
        mask = np.ones_like(ids)
        mask[-1, tokens // 2 :] = 0
        for got, want in zip(graph(ids, mask), torch_logits(tiny_reader, ids, mask)):
            np.testing.assert_allclose(got[mask == 1], want[mask == 1], atol=1e-4)


def test_graph_is_exported_once_and_a_damaged_one_again(tiny_reader):
    path = OnnxEncoder(tiny_reader, OUTPUTS, "reader").path
    written = path.stat().st_mtime_ns
    assert OnnxEncoder(tiny_reader, OUTPUTS, "reader").path.stat().st_mtime_ns == written
    path.write_bytes(b"not a graph")
    graph = OnnxEncoder(tiny_reader, OUTPUTS, "reader")
    ids = np.array([[5, 6, 7]])
    np.testing.assert_allclose(graph(ids, np.ones_like(ids))[0], torch_logits(tiny_reader, ids, np.ones_like(ids))[0], atol=1e-4)


def test_other_weights_get_another_graph(tiny_reader):
    before = OnnxEncoder(tiny_reader, OUTPUTS, "reader").path
    with torch.no_grad():
        tiny_reader.qa_outputs.bias += 1
    assert OnnxEncoder(tiny_reader, OUTPUTS, "reader").path != before


def test_query_vector_is_sentence_transformers_vector(embedder):
    for query in ("长安汽车新能源汽车年销量突破了多少？", "重庆", "query " * 300):
        want = embedder.model.encode([query], prompt="query: ", normalize_embeddings=True, convert_to_numpy=True)
        np.testing.assert_allclose(embedder.query(query), want, atol=1e-5)


def test_int8_reader_finds_the_same_answer(embedder, article):
    from qa.reader import Reader
    from tests.conftest import QUESTION

    reader = Reader(embedder=embedder, precision="int8")
    assert reader.graph is not None and reader.graph.path.name == "reader.int8.onnx"
    contexts = [article[3038:3201], article[2551:2716]]
    best = reader.run(QUESTION, contexts).best
    assert (best.text, best.context_index, contexts[1][best.start : best.end]) == ("100万辆", 1, "100万辆")


def test_query_graph_key_is_the_same_in_every_process(embedder):
    from qa.embedder import Embedder
    from qa.runtime import weights_key

    again = Embedder()
    assert weights_key(again.model[0].auto_model, "e5", "fp32") == weights_key(embedder.model[0].auto_model, "e5", "fp32")
