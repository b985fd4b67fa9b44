"""The archive's cost curve: build and query stores of 1x to ~1,000x the article's size.

The archive is every paragraph of the files in ``qa-data`` (8,501 paragraphs, 3.85 M
characters, about 1,070 articles), one file each, ``SOURCE/NNNNN.txt``, in a seeded shuffle;
a size of ``S`` times the article is the shortest prefix of that order holding ``S`` x 3,600
characters. Steps (each prints one JSON line; run them one at a time on an idle machine):

    python -m eval.archive corpus DIR                      # write the archive's files and order
    python -m eval.archive build DIR --store URI --size S   # grow a store to size S (incremental)
    python -m eval.archive copy FOLDER --store X.db         # a FAISS folder's vectors into Milvus
    python -m eval.archive query DIR --store URI --size S [--exact-limit N] [--questions N]

``query`` asks the CMRC dev questions whose paragraph is in the store (at most ``--questions``)
and reports retrieval and answer p50/p95, recall@5 of the gold paragraph and F1.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

from eval.paths import add_data_arg

ARTICLE_CHARS = 3_600
ORDER_FILE = "order.json"


def write_corpus(data: Path, out: Path, seed: int = 0) -> dict:
    """One file per paragraph of every SQuAD file under ``data``, and their order (by id)."""
    ids = []
    for path in sorted(data.glob("*/*.json")):
        paragraphs = dict.fromkeys(p["context"] for a in json.loads(path.read_text(encoding="utf-8"))["data"] for p in a["paragraphs"])
        (out / path.stem).mkdir(parents=True, exist_ok=True)
        for n, text in enumerate(paragraphs):
            (out / path.stem / f"{n:05d}.txt").write_text(text, encoding="utf-8")
            ids.append((f"{path.stem}/{n:05d}.txt", len(text)))
    random.Random(seed).shuffle(ids)
    (out / ORDER_FILE).write_text(json.dumps(ids), encoding="utf-8")
    return {"paragraphs": len(ids), "characters": sum(n for _, n in ids)}


def prefix(corpus: Path, size: str) -> dict[str, Path]:
    """Document id -> file of the archive's first ``size`` x 3,600 characters (``all``: everything)."""
    order = json.loads((corpus / ORDER_FILE).read_text(encoding="utf-8"))
    limit = float("inf") if size == "all" else float(size) * ARTICLE_CHARS
    ids, total = {}, 0
    for doc_id, n in order:
        if total >= limit:
            break
        ids[doc_id] = corpus / doc_id
        total += n
    return ids


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mb(uri: str) -> float:
    return int(subprocess.run(["du", "-sk", uri], capture_output=True, text=True).stdout.split()[0]) / 1024


def cmd_build(args) -> dict:
    from qa.archive import store_meta, sync
    from qa.embedder import Embedder
    from qa.store import open_store

    embedder = Embedder()
    store = open_store(args.store, store_meta(embedder))
    report = sync(store, prefix(args.corpus, args.size), embedder, progress=False)
    result = {"size": args.size, "store": args.store, "chunks": len(store), "added": report.added, "embedded": report.chunks, "seconds": round(report.seconds, 1), "chunks_per_s": round(report.chunks / report.seconds, 1) if report.chunks else None}
    store.close()
    return {**result, "disk_mb": round(disk_mb(args.store), 1), "peak_rss_mb": round(peak_rss_mb())}


def cmd_copy(args) -> dict:
    """The chunks and vectors of a FAISS folder into a Milvus store (the same vectors, no embedding)."""
    from qa.archive import store_meta
    from qa.chunks import Chunk
    from qa.corpus import Document
    from qa.embedder import Embedder
    from qa.store import open_store
    from qa.store.folder import FolderStore

    meta = store_meta(Embedder())
    source, target = FolderStore(args.corpus, meta), open_store(args.store, meta)
    started = time.perf_counter()
    have = target.documents()
    wanted = source.documents()
    target.remove([d for d, stored in have.items() if d not in wanted or stored.sha256 != wanted[d].sha256])
    batch = []
    for doc_id, stored in wanted.items():
        if have.get(doc_id, None) and have[doc_id].sha256 == stored.sha256:
            continue
        rows = source.db.execute("SELECT id, doc_id, start, end, text, vector FROM chunks WHERE doc_id = ? ORDER BY start", (doc_id,)).fetchall()
        chunks = [Chunk(*r[:5]) for r in rows]
        vectors = np.stack([np.frombuffer(r[5], dtype=np.float32) for r in rows])
        batch.append((Document(doc_id, source.document_text(doc_id)), chunks, vectors))
        if len(batch) >= 100:
            target.add(batch)
            batch = []
    target.add(batch)
    target.commit()
    seconds = time.perf_counter() - started
    result = {"store": args.store, "chunks": len(target), "insert_seconds": round(seconds, 1)}
    target.close()
    return {**result, "disk_mb": round(disk_mb(args.store), 1), "peak_rss_mb": round(peak_rss_mb())}


def cmd_query(args) -> dict:
    from qa.archive import store_meta
    from qa.assistant import Assistant
    from qa.embedder import Embedder
    from qa.metrics import f1_score
    from qa.reader import READER_WEIGHTS, Reader
    from qa.retriever import Retriever
    from qa.settings import defaults
    from qa.squad import load_squad
    from qa.store import memory, open_store

    memory.EXACT_LIMIT = args.exact_limit
    inside = prefix(args.corpus, args.size)
    contexts = {(args.corpus / doc_id).read_text(encoding="utf-8"): doc_id for doc_id in inside if doc_id.startswith("cmrc2018_dev/")}
    cases = [e for e in load_squad(args.data / "dev" / "cmrc2018_dev.json") if e.context in contexts]
    cases = random.Random(1).sample(cases, min(args.questions, len(cases)))
    if not cases:
        return {"size": args.size, "store": args.store, "questions": 0, "note": "no CMRC dev paragraph in this prefix"}
    started = time.perf_counter()
    settings = defaults()
    embedder = Embedder(settings.cache, settings.threads)
    store = open_store(args.store, store_meta(embedder))
    retriever = Retriever(store=store, embedder=embedder)
    reader = Reader(READER_WEIGHTS, embedder=embedder, precision=settings.precision, reread=settings.reread, threads=settings.threads)
    assistant = Assistant(retriever, reader)
    assistant.ask(cases[0].question)  # loads the store (FAISS: vectors into memory) and the models
    load_s = time.perf_counter() - started
    search_ms, ask_ms, found, f1 = [], [], 0, []
    for case in cases:
        t = time.perf_counter()
        hits = retriever.search(case.question, k=5)
        search_ms.append(1000 * (time.perf_counter() - t))
        found += any(h.doc_id == contexts[case.context] for h in hits)
        answer = assistant.ask(case.question)
        ask_ms.append(1000 * answer.timings["total"])
        f1.append(f1_score(answer.answer, [a for a, _ in case.answers]))
    p = lambda xs, q: round(float(np.percentile(xs, q)), 1)  # noqa: E731
    return {
        "size": args.size, "store": args.store, "exact_limit": args.exact_limit, "chunks": len(store), "questions": len(cases),
        "load_s": round(load_s, 1), "search_p50_ms": p(search_ms, 50), "search_p95_ms": p(search_ms, 95), "ask_p50_ms": p(ask_ms, 50), "ask_p95_ms": p(ask_ms, 95),
        "recall5": round(found / len(cases), 4), "f1": round(100 * float(np.mean(f1)), 2), "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("corpus")
    p.add_argument("corpus", type=Path)
    add_data_arg(p)
    for name in ("build", "copy", "query"):
        p = sub.add_parser(name)
        p.add_argument("corpus", type=Path, help="the archive folder (copy: the FAISS store folder)")
        p.add_argument("--store", required=True)
        p.add_argument("--size", default="all")
        p.add_argument("--exact-limit", type=int, default=200_000, help="query: chunks above which FAISS searches an HNSW graph (0: always)")
        p.add_argument("--questions", type=int, default=300)
        add_data_arg(p)
    args = parser.parse_args()
    if args.command == "corpus":
        print(json.dumps(write_corpus(args.data, args.corpus)))
        return
    print(json.dumps({"build": cmd_build, "copy": cmd_copy, "query": cmd_query}[args.command](args), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
