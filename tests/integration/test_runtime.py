"""ONNX Runtime graphs: same numbers as torch, exported once, a damaged cache file redone,
and a process that finds them cached answers without importing torch."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForQuestionAnswering

from qa.encoders.e5.packed import Q4Table
from qa.encoders.e5.torch_model import as_torch_module
from qa.encoders.onnx_graphs import KEEP_GRAPHS, OnnxEncoder
from tests.conftest import QUESTION, ROOT

OUTPUTS = ("start_logits", "end_logits")


@pytest.fixture
def tiny(tmp_path):
    """A small reader on a 100-row 4-bit table, and its weights file (the graph's source)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    table = Q4Table((rng.random((100, 1)) / 10).astype(np.float16), rng.integers(0, 256, (100, 1, 16), dtype=np.uint8))
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    model = BertForQuestionAnswering(config).eval()
    model.bert.embeddings.word_embeddings = as_torch_module(table)
    weights = tmp_path / "tiny.safetensors"
    save_file(model.state_dict(), str(weights))
    return model, table, weights


def graph_of(tiny, build=None) -> OnnxEncoder:
    model, table, weights = tiny
    return OnnxEncoder(build or (lambda: model), table, OUTPUTS, "reader", (weights,), weights.parent, "fp32", 1)


def torch_logits(model, ids, mask):
    with torch.inference_mode():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    return out.start_logits.numpy(), out.end_logits.numpy()


def test_graph_gives_torchs_logits_for_any_batch_and_length(tiny):
    graph = graph_of(tiny)
    rng = np.random.default_rng(0)
    for batch, tokens in ((1, 5), (3, 40)):
        ids = rng.integers(1, 100, (batch, tokens))
        mask = np.ones_like(ids)
        mask[-1, tokens // 2 :] = 0
        for got, want in zip(graph(ids, mask), torch_logits(tiny[0], ids, mask)):
            np.testing.assert_allclose(got[mask == 1], want[mask == 1], atol=1e-4)


def test_graph_is_exported_once_and_a_damaged_one_again(tiny):
    path = graph_of(tiny).path
    written = path.stat().st_mtime_ns
    assert graph_of(tiny, build=lambda: pytest.fail("exported again")).path.stat().st_mtime_ns == written
    path.write_bytes(b"not a graph")
    graph = graph_of(tiny)
    ids = np.array([[5, 6, 7]])
    np.testing.assert_allclose(graph(ids, np.ones_like(ids))[0], torch_logits(tiny[0], ids, np.ones_like(ids))[0], atol=1e-4)


def test_other_weights_get_another_graph(tiny):
    before = graph_of(tiny).path
    model, _, weights = tiny
    with torch.no_grad():
        model.qa_outputs.bias += 1
    save_file(model.state_dict(), str(weights))
    assert graph_of(tiny).path != before


def test_only_the_most_recently_used_graphs_are_kept(tiny, tmp_path):
    model, table, _ = tiny
    graphs = []
    for k in range(KEEP_GRAPHS + 1):  # one more weights file than are kept; the first is used again before the last
        with torch.no_grad():
            model.qa_outputs.bias += 1
        weights = tmp_path / f"w{k}.safetensors"
        save_file(model.state_dict(), str(weights))
        if k == KEEP_GRAPHS:
            graph_of((model, table, graphs[0][0]), build=lambda: pytest.fail("exported again"))
        graphs.append((weights, graph_of((model, table, weights)).path))
    assert [path.is_file() for _, path in graphs] == [True, False] + [True] * (KEEP_GRAPHS - 1)


def test_query_vector_is_sentence_transformers_vector(embedder):
    for query in ("长安汽车新能源汽车年销量突破了多少？", "重庆", "query " * 300):
        want = embedder.sentence_transformer.encode([query], prompt="query: ", normalize_embeddings=True, convert_to_numpy=True)
        np.testing.assert_allclose(embedder.query(query), want, atol=1e-5)


def test_int8_reader_finds_the_same_answer(embedder, article):
    from qa.reading.reader import Reader

    reader = Reader(embedder=embedder, precision="int8")
    assert reader.backend.graph.path.name == "reader.int8.onnx"
    contexts = [article[3038:3201], article[2551:2716]]
    best = reader.run(QUESTION, contexts).best
    assert (best.text, best.context_index, contexts[1][best.start : best.end]) == ("100万辆", 1, "100万辆")


def test_cached_graphs_answer_without_torch(embedder, retriever):
    """With the graphs and the index cached, a new process answers in fp32 without importing
    torch, transformers or sentence-transformers (their imports were most of a cold start)."""
    from qa.reading.reader import Reader

    Reader(embedder=embedder, precision="fp32")  # the graphs (and, via the retriever, the index) the child will find
    retriever.search(QUESTION)
    code = (
        "import json, sys; from qa import Assistant\n"
        f"a = Assistant().ask({QUESTION!r})\n"
        "print(json.dumps([a.answer, a.start, sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)]))"
    )
    env = {**os.environ, "QA_PRECISION": "fp32"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300).stdout
    answer, start, heavy = json.loads(out.strip().splitlines()[-1])
    assert (answer, heavy) == ("100万辆", [])
    assert start is not None


def test_a_process_that_exits_while_the_warm_up_runs_exits_cleanly(embedder, retriever):
    """Exiting while the background warm-up is inside native code (the query encoder, the
    tokenizer) used to abort the process ("terminate called without an active exception",
    exit 134, in 11 of 20 runs exiting 0.1 s after the start): the warm-up now ends before the
    interpreter does. Exits at several moments of the warm-up, with the graphs cached."""
    from qa.reading.reader import Reader

    Reader(embedder=embedder, precision="fp32")
    retriever.search(QUESTION)
    for delay in (0.05, 0.1, 0.2, 0.3, 0.5):
        code = f"import time; from qa import Assistant; Assistant(); time.sleep({delay})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
