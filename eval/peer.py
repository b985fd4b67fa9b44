"""A peer in the benchmark: Haystack 2 with the same two models, against this project, in one run.

    pip install -e ".[peer]"      # haystack-ai==2.31.0 (the last 2.x with ExtractiveReader), accelerate
    python -m eval.peer [--limit N]                                    # the article set over the article
    python -m eval.peer --questions Q.jsonl --corpus DIR [--corpus …]   # held-out questions over an archive

Haystack gets the same e5 folder (``query: ``/``passage: `` prefixes) and this reader written
out once as a plain ``BertForQuestionAnswering`` folder in ``$QA_CACHE/peer-reader`` (its
logits are checked against the project's fp32 reader), the same chunks of the article,
hybrid retrieval (e5 + BM25 over single characters, a fair Chinese baseline, fused by
reciprocal rank) and k = 3; its ``ExtractiveReader`` may answer "no answer". The questions
(default eval/questions.jsonl over the article; ``--questions`` with ``--corpus``: a set over
the files given, such as ``python -m eval.archive corpus``'s dev folders) are asked of both
systems in alternation, one after the other, on an otherwise idle machine: F1 per source of the
project in the strict view (only sure answers count) and in the shown view (sure and unsure),
and of Haystack; the share each withholds; answer-time p50/p95 of each, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from eval.paths import QUESTIONS
from qa.evaluation.runner import load_cases
from qa.evaluation.metrics import f1_score
from qa.evaluation.summary import percentile
from qa.settings import defaults


def export_reader(folder: Path, cache: Path) -> Path:
    """The shipped reader as a standalone fp32 ``BertForQuestionAnswering`` folder (once), from the e5 base under ``cache``."""
    if (folder / "model.safetensors").is_file():
        return folder
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from qa.encoders.reader_backends import READER_WEIGHTS
    from qa.encoders.e5.model_files import ensure_model

    base = ensure_model(cache)
    model = BertForQuestionAnswering(BertConfig.from_pretrained(str(base)))
    with safe_open(str(base / "model.safetensors"), "pt") as f:
        state = {"bert." + k: f.get_tensor(k) for k in f.keys()}
    state.update({k: v.float() for k, v in load_file(READER_WEIGHTS).items()})
    model.load_state_dict(state, strict=False)
    model.eval().to(torch.float32).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(folder)
    return folder


def check_same_logits(folder: Path, assistant) -> float:
    """Largest absolute difference of start logits between the export and the project's reader."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    from qa.reading.windows import encode_windows

    exported = AutoModelForQuestionAnswering.from_pretrained(str(folder)).eval()
    windows = encode_windows(assistant.reader.tokenizer, ["长安汽车新能源汽车年销量突破了多少？"], [assistant.retriever.chunks[10].text])
    ids, mask = torch.from_numpy(windows.input_ids), torch.from_numpy(windows.attention_mask)
    with torch.inference_mode():
        theirs = exported(input_ids=ids, attention_mask=mask).start_logits.numpy()
        ours = assistant.reader.model(input_ids=ids, attention_mask=mask).start_logits.float().numpy()
    keep = windows.attention_mask.astype(bool)
    return float(np.abs(theirs - ours)[keep].max())


def haystack_pipeline(assistant, reader_folder: Path, k: int):
    """Hybrid retrieval (e5 + per-character BM25, RRF) and ExtractiveReader over the project's chunks."""
    from haystack import Document, Pipeline
    from haystack.components.embedders import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.readers import ExtractiveReader
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.utils import ComponentDevice

    from qa.encoders.e5 import PASSAGE_PREFIX, QUERY_PREFIX
    from qa.encoders.e5.model_files import ensure_model

    cpu = ComponentDevice.from_str("cpu")
    e5 = str(ensure_model(defaults().cache))
    store = InMemoryDocumentStore(bm25_tokenization_regex=r"(?u)\w", embedding_similarity_function="cosine")
    docs = SentenceTransformersDocumentEmbedder(model=e5, device=cpu, prefix=PASSAGE_PREFIX, normalize_embeddings=True, progress_bar=False, local_files_only=True)
    docs.warm_up()
    store.write_documents(docs.run([Document(content=c.text) for c in assistant.retriever.chunks])["documents"])
    pipe = Pipeline()
    pipe.add_component("embed", SentenceTransformersTextEmbedder(model=e5, device=cpu, prefix=QUERY_PREFIX, normalize_embeddings=True, progress_bar=False, local_files_only=True))
    pipe.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=k))
    pipe.add_component("bm25", InMemoryBM25Retriever(store, top_k=k))
    pipe.add_component("join", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k))
    pipe.add_component("reader", ExtractiveReader(model=str(reader_folder), device=cpu, top_k=1, no_answer=True))
    pipe.connect("embed.embedding", "dense.query_embedding")
    pipe.connect("dense", "join")
    pipe.connect("bm25", "join")
    pipe.connect("join", "reader")
    pipe.warm_up()

    def answer(question: str) -> str:
        found = pipe.run({"embed": {"text": question}, "bm25": {"query": question}, "reader": {"query": question}})["reader"]["answers"]
        return (found[0].data or "") if found else ""

    return answer


def main() -> None:
    from qa.assistant import Assistant
    from qa.encoders.cpu import plan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="a .jsonl question set, with sources (default: the article set)")
    parser.add_argument("--corpus", action="append", help="the files or folders the questions are asked over (repeatable; default: the article)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    args = parser.parse_args()
    cases = load_cases(args.questions)[: args.limit]
    assistant = Assistant.from_corpus(args.corpus)
    folder = export_reader(defaults().cache / "peer-reader", defaults().cache)
    print(f"{plan().model}; flags {' '.join(plan().flags)}; project precision {assistant.reader.precision}, {plan().threads} threads")
    print(f"exported reader: {folder}; largest start-logit difference to the project's reader {check_same_logits(folder, assistant):.2e}")
    print(f"{len(cases)} questions over {len(assistant.retriever.documents)} documents, {len(assistant.retriever.chunks)} chunks")
    peer = haystack_pipeline(assistant, folder, assistant.k)
    graded = {}

    def project(question: str) -> str:
        answer = assistant.ask(question)
        graded[question] = answer.grade
        return answer.answer

    systems = {"project": project, "haystack": peer}
    for ask in systems.values():  # warm-up
        ask(cases[0].question)
    times: dict[str, list[float]] = {name: [] for name in systems}
    answers: dict[str, list[str]] = {name: [] for name in systems}
    for i, case in enumerate(cases):
        for name in sorted(systems, reverse=i % 2 == 1):  # alternate who goes first
            started = time.perf_counter()
            answers[name].append(systems[name](case.question))
            times[name].append(time.perf_counter() - started)
    views = {
        "project, strict": [a if graded[c.question] == "sure" else "" for a, c in zip(answers["project"], cases)],
        "project, shown": answers["project"],
        "haystack": answers["haystack"],
    }
    sources = sorted({c.source or "article" for c in cases})
    print(f"{'F1 (withheld %)':<18}" + "".join(f"{s:>24}" for s in [*sources, "all"][: len(sources) + (len(sources) > 1)]))
    for name, predicted in views.items():
        cells = []
        for source in [*sources, None][: len(sources) + (len(sources) > 1)]:
            mine = [(p, c) for p, c in zip(predicted, cases) if source is None or (c.source or "article") == source]
            f1 = 100 * statistics.fmean(f1_score(p, c.golds) if c.golds else float(not p) for p, c in mine)
            withheld = 100 * statistics.fmean(not p for p, c in mine if c.golds) if any(c.golds for _, c in mine) else 0.0
            cells.append(f"{f1:6.2f} ({withheld:4.1f} %)")
        print(f"{name:<18}" + "".join(f"{cell:>24}" for cell in cells))
    print(f"{'system':<10}{'p50 ms':>9}{'p95 ms':>9}")
    for name in systems:
        print(f"{name:<10}{1000 * percentile(times[name], 0.5):>9.1f}{1000 * percentile(times[name], 0.95):>9.1f}")
    print(f"haystack p50 / project p50: {percentile(times['haystack'], 0.5) / percentile(times['project'], 0.5):.2f}")


if __name__ == "__main__":
    main()
