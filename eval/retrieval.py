"""Retrieval quality and speed on the article: recall@1/3/5 and MRR per mode, query latency, index build time.

    python -m eval.retrieval                       # the default settings
    python -m eval.retrieval --sweep               # also other chunk sizes / overlaps
A hit is relevant when a gold answer string lies inside the chunk.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from eval.paths import QUESTIONS
from qa.ingest.chunks import CHUNK_OVERLAP, CHUNK_SIZE
from qa.encoders.embedder import Embedder
from qa.evaluation.runner import Case, load_cases
from qa.retrieval.retriever import MODES, Retriever
from qa.evaluation.summary import first_relevant_rank, percentile, recall_mrr


def measure(retriever: Retriever, cases: list[Case]) -> dict[str, dict[str, float]]:
    """Recall@1/3/5 and MRR per retrieval mode over the answerable questions."""
    answerable = [c for c in cases if c.golds]
    return {
        mode: recall_mrr([first_relevant_rank([h.text for h in retriever.search(c.question, k=5, mode=mode)], c.golds) for c in answerable])
        for mode in MODES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="also try other chunk sizes and overlaps")
    args = parser.parse_args()
    questions = load_cases(QUESTIONS)
    embedder = Embedder()
    embedder.passage_graph  # load once, outside the timed index builds
    settings = [(CHUNK_SIZE, CHUNK_OVERLAP)]
    if args.sweep:
        settings += [(s, o) for s in (100, 150, 200, 300, 400) for o in (0, 50) if (s, o) != settings[0]]
    print(f"{'size':>4} {'overlap':>7} {'chunks':>6} {'mode':>6}  R@1    R@3    R@5    MRR")
    for size, overlap in settings:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            retriever = Retriever(chunk_size=size, chunk_overlap=overlap, index_dir=Path(tmp), embedder=embedder)
            build_s = time.perf_counter() - started
            for mode, row in measure(retriever, questions).items():
                print(f"{size:>4} {overlap:>7} {len(retriever.chunks):>6} {mode:>6}  " + "  ".join(f"{v:.3f}" for v in row.values()))
        if (size, overlap) == settings[0]:
            default_build_s = build_s
            default = retriever
    timings = []
    for q in questions * 2:
        started = time.perf_counter()
        default.search(q.question, k=5, mode="hybrid")
        timings.append(time.perf_counter() - started)
    timings = timings[len(questions) :]  # the first pass is warm-up
    print(f"index build (article, {len(default.chunks)} chunks, embeddings + FAISS): {default_build_s:.2f} s")
    print(f"hybrid query latency over {len(timings)} questions: median {percentile(timings, 0.5) * 1000:.1f} ms, p95 {percentile(timings, 0.95) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
