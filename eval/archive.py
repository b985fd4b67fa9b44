"""The archive's cost curve: build and query stores of 1x to ~1,000x the article's size.

The archive is every paragraph of the files in ``qa-data`` (8,501 paragraphs, 3.85 M
characters, about 1,070 articles), one file each, ``SOURCE/NNNNN.txt``, in a seeded shuffle;
a size of ``S`` times the article is the shortest prefix of that order holding ``S`` x 3,600
characters. Steps (each prints one JSON line; run them one at a time on an idle machine):

    python -m eval.archive corpus DIR                      # write the archive's files and order
    python -m eval.archive build DIR --store URI --size S   # grow a store to size S (incremental)
    python -m eval.archive copy FOLDER --store X.db         # a FAISS folder's vectors into Milvus
    python -m eval.archive query DIR --store URI --size S [--exact-limit N] [--questions N]
    python -m eval.archive floor DIR --size S               # passage embedding vs its floor, fp32 and int8
    python -m eval.archive upload DIR [--chars N]           # a big upload: first answer, whole index
    python -m eval.archive questions OUT.jsonl [--questions N]  # held-out questions with their sources

``query`` asks the CMRC dev questions whose paragraph is in the store (at most ``--questions``)
and reports retrieval and answer p50/p95, recall@5 of the gold paragraph and F1.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import tempfile
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


def cmrc_questions(corpus: Path, size: str, data: Path) -> list[tuple]:
    """``(example, doc_id)`` for each CMRC dev question whose paragraph is among the archive's
    first ``size``: the file that holds it is the gold paragraph."""
    from qa.ingest.squad_files import load_squad

    files = {(corpus / d).read_text(encoding="utf-8"): d for d in prefix(corpus, size) if d.startswith("cmrc2018_dev/")}
    return [(e, files[e.context]) for e in load_squad(data / "dev" / "cmrc2018_dev.json") if e.context in files]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mb(uri: str) -> float:
    return int(subprocess.run(["du", "-sk", uri], capture_output=True, text=True).stdout.split()[0]) / 1024


def cmd_build(args) -> dict:
    from qa.retrieval.archive_sync import store_meta, sync
    from qa.encoders.embedder import Embedder
    from qa.retrieval.stores import open_store

    embedder = Embedder()
    store = open_store(args.store, store_meta(embedder))
    report = sync(store, prefix(args.corpus, args.size), embedder, progress=False)
    result = {"size": args.size, "store": args.store, "chunks": len(store), "added": report.added, "embedded": report.chunks, "seconds": round(report.seconds, 1), "chunks_per_s": round(report.chunks / report.seconds, 1) if report.chunks else None}
    store.close()
    return {**result, "disk_mb": round(disk_mb(args.store), 1), "peak_rss_mb": round(peak_rss_mb())}


def cmd_copy(args) -> dict:
    """The chunks and vectors of a FAISS folder into a Milvus store (the same vectors, no embedding)."""
    from qa.retrieval.archive_sync import store_meta
    from qa.ingest.chunks import Chunk
    from qa.ingest.corpus import Document
    from qa.encoders.embedder import Embedder
    from qa.retrieval.stores import open_store
    from qa.retrieval.stores.faiss_folder import FolderStore

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
    from qa.retrieval.archive_sync import store_meta
    from qa.assistant import Assistant
    from qa.encoders.embedder import Embedder
    from qa.evaluation.metrics import f1_score
    from qa.reading.reader import READER_WEIGHTS, Reader
    from qa.retrieval.retriever import Retriever
    from qa.settings import defaults
    from qa.retrieval.stores import memory, open_store

    memory.EXACT_LIMIT = args.exact_limit
    found_in = cmrc_questions(args.corpus, args.size, args.data)
    cases = random.Random(1).sample(found_in, min(args.questions, len(found_in)))
    if not cases:
        return {"size": args.size, "store": args.store, "questions": 0, "note": "no CMRC dev paragraph in this prefix"}
    started = time.perf_counter()
    settings = defaults()
    embedder = Embedder(settings.cache, settings.threads)
    store = open_store(args.store, store_meta(embedder))
    retriever = Retriever(store=store, embedder=embedder)
    reader = Reader(READER_WEIGHTS, embedder=embedder, precision=settings.precision, reread=settings.reread, threads=settings.threads)
    assistant = Assistant(retriever, reader)
    assistant.ask(cases[0][0].question)  # loads the store (FAISS: vectors into memory) and the models
    load_s = time.perf_counter() - started
    search_ms, ask_ms, found, f1 = [], [], 0, []
    for case, gold in cases:
        t = time.perf_counter()
        hits = retriever.search(case.question, k=5)
        search_ms.append(1000 * (time.perf_counter() - t))
        found += any(h.doc_id == gold for h in hits)
        answer = assistant.ask(case.question)
        ask_ms.append(1000 * answer.timings["total"])
        f1.append(f1_score(answer.answer, [a for a, _ in case.answers]))
    p = lambda xs, q: round(float(np.percentile(xs, q)), 1)  # noqa: E731
    return {
        "size": args.size, "store": args.store, "exact_limit": args.exact_limit, "chunks": len(store), "questions": len(cases),
        "load_s": round(load_s, 1), "search_p50_ms": p(search_ms, 50), "search_p95_ms": p(search_ms, 95), "ask_p50_ms": p(ask_ms, 50), "ask_p95_ms": p(ask_ms, 95),
        "recall5": round(found / len(cases), 4), "f1": round(100 * float(np.mean(f1)), 2), "peak_rss_mb": round(peak_rss_mb()),
    }


def embed_timed(embedder, texts: list[str]) -> tuple[np.ndarray, float, float]:
    """Vectors of ``texts`` by the pipeline, its seconds, and the seconds of its forward passes
    alone over the same batches (the floor: no tokenizing, lookup, pooling or writing)."""
    from qa.encoders.embedder import mean_pooled

    graph = embedder.passage_graph
    vectors = np.zeros((len(texts), 384), np.float32)
    floor = 0.0
    started = time.perf_counter()
    for positions, ids, mask in embedder.batches(texts):
        embeds = graph.word_embeddings.rows(ids)
        t = time.perf_counter()
        (states,) = graph.session.run(["last_hidden_state"], {"inputs_embeds": embeds, "attention_mask": mask})
        floor += time.perf_counter() - t
        vectors[positions] = mean_pooled(states, mask)
    return vectors, time.perf_counter() - started, floor


def cmd_floor(args) -> dict:
    """Passage embedding against its floor, fp32 and int8, over the chunks of a size's prefix;
    and whether int8 vectors keep dense recall@5 of the gold paragraph on CMRC dev questions."""
    from qa.retrieval.archive_sync import keyed_chunks
    from qa.ingest.corpus import read_document
    from qa.encoders.embedder import Embedder
    from qa.retrieval.stores.memory import faiss_index

    inside = prefix(args.corpus, args.size)
    chunks = [c for doc_id, path in inside.items() for c in keyed_chunks(read_document(path, doc_id), 300, 0)]
    texts = [c.text for c in chunks]
    result = {"size": args.size, "chunks": len(texts), "tokens": sum(len(e.ids) for e in Embedder().tokenizer.encode_batch(texts))}
    query = Embedder()
    cases = cmrc_questions(args.corpus, args.size, args.data)
    for precision in ("fp32", "int8"):
        embedder = Embedder(passage_precision=precision)
        embed_timed(embedder, texts[:16])  # export or load the graph, not timed
        vectors, seconds, floor = embed_timed(embedder, texts)
        index = faiss_index(vectors, exact_limit=len(vectors))
        found = 0
        for case, gold in cases:
            _, ids = index.search(query.query(case.question), 5)
            found += any(chunks[i].doc_id == gold for i in ids[0])
        result[precision] = {"chunks_per_s": round(len(texts) / seconds, 1), "floor_chunks_per_s": round(len(texts) / floor, 1), "of_floor": round(floor / seconds, 3), "dense_recall5": round(found / max(len(cases), 1), 4), "questions": len(cases)}
    return result


def cmd_upload(args) -> dict:
    """A text of ``--chars`` characters (the archive's paragraphs, joined) uploaded as the app
    does: seconds to the first answer (keywords only), to the whole index, and the floor time."""
    from qa.assistant import Assistant
    from qa.ingest.chunks import split_documents
    from qa.ingest.corpus import Document
    from qa.encoders.embedder import Embedder
    from qa.ingest.squad_files import load_squad
    from qa.retrieval.uploads import Indexer

    order = json.loads((args.corpus / ORDER_FILE).read_text(encoding="utf-8"))
    parts, total = [], 0
    for doc_id, n in order:
        if total >= args.chars:
            break
        parts.append((args.corpus / doc_id).read_text(encoding="utf-8"))
        total += n + 2
    text = "\n\n".join(parts)[: args.chars]
    case = next(e for e in load_squad(args.data / "dev" / "cmrc2018_dev.json") if e.context in text)
    question = case.question
    base = Assistant.from_corpus()
    base.ask(question)  # models loaded, as in a running app
    indexer = Indexer(base.retriever.embedder)
    indexer.warm_up().result()  # as the app does at start
    base.retriever.embedder.cache = Path(tempfile.mkdtemp())  # a text never indexed before (not found by its hash)
    started = time.perf_counter()
    retriever, dense = indexer.retriever([Document("upload.txt", text)])
    first = Assistant(retriever, base.reader).ask(question)
    first_s = time.perf_counter() - started
    dense.result()
    whole_s = time.perf_counter() - started
    texts = [c.text for c in split_documents([Document("upload.txt", text)])]
    _, _, floor = embed_timed(Embedder(), texts)
    return {"chars": len(text), "chunks": len(texts), "question": question, "gold": case.answers[0][0], "first_answer_s": round(first_s, 2), "keywords_only": first.keywords_only, "answer": first.answer, "indexed_s": round(whole_s, 1), "floor_s": round(floor, 1), "of_floor": round(whole_s / floor, 2)}


def cmd_questions(args) -> dict:
    """``--questions`` questions from each held-out file (squad2_zh dev: as many answerable as
    unanswerable), with their source and own paragraph, for ``qa eval OUT --store ARCHIVE``
    (open mode, per source) and ``--mode reader``. Written outside the project: the data is not committed."""
    from qa.ingest.squad_files import load_squad

    rows = []
    for name in ("cmrc2018_dev", "squad2_zh_dev"):
        examples = load_squad(args.data / "dev" / f"{name}.json")
        groups = [[e for e in examples if e.answers], [e for e in examples if not e.answers]]
        for group in groups:
            for e in random.Random(2).sample(group, min(args.questions, len(group))):
                rows.append({"id": e.id, "question": e.question, "answers": [a for a, _ in e.answers], "source": name, "context": e.context})
    args.corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return {"questions": len(rows), "by_source": {n: sum(r["source"] == n for r in rows) for n in ("cmrc2018_dev", "squad2_zh_dev")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("corpus")
    p.add_argument("corpus", type=Path)
    add_data_arg(p)
    for name in ("build", "copy", "query", "floor", "upload", "questions"):
        p = sub.add_parser(name)
        p.add_argument("corpus", type=Path, help="the archive folder (copy: the FAISS store folder; questions: the file to write)")
        p.add_argument("--store", required=name in ("build", "copy", "query"))
        p.add_argument("--size", default="all")
        p.add_argument("--exact-limit", type=int, default=200_000, help="query: chunks above which FAISS searches an HNSW graph (0: always)")
        p.add_argument("--questions", type=int, default=300)
        p.add_argument("--chars", type=int, default=200_000, help="upload: the text's length")
        add_data_arg(p)
    args = parser.parse_args()
    if args.command == "corpus":
        print(json.dumps(write_corpus(args.data, args.corpus)))
        return
    commands = {"build": cmd_build, "copy": cmd_copy, "query": cmd_query, "floor": cmd_floor, "upload": cmd_upload, "questions": cmd_questions}
    print(json.dumps(commands[args.command](args), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
