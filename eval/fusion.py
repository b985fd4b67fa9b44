"""Fusion measured on saved rankings: recall@1/3/5 and MRR of plain RRF against RRF that keeps a
decisive first hit first, for several decisive leads (:mod:`qa.retrieval.fusion`).

    python -m eval.fusion [--store URI --corpus-dir DIR] [--limit N]

Sets: the article's answerable questions; CMRC dev and squad2_zh dev (answerable) in open mode
over their own paragraphs (a chunk is relevant when it holds a gold answer); with ``--store``,
300 CMRC dev questions over an archive (relevant: the gold paragraph's file, ``eval.archive``);
and the identifier text (``eval.identifier``: relevant, the asked line's chunk).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from eval.identifier import QUESTIONS as IDENTIFIER_QUESTIONS
from eval.identifier import identifier_text
from eval.paths import QUESTIONS, add_data_arg
from qa.retrieval.fusion import fuse
from qa.evaluation.summary import recall_mrr

LEADS = (None, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


def collect(retriever, cases: list[tuple[str, object]]) -> list[tuple[dict, object]]:
    """``(rankings, is_relevant)`` per question."""
    return [(retriever.rankings(question), relevant) for question, relevant in cases]


def scores(collected, decisive_lead) -> dict:
    ranks = []
    for rankings, relevant in collected:
        hits = fuse(rankings, 5, decisive_lead)
        ranks.append(next((r for r, h in enumerate(hits, 1) if relevant(h)), None))
    return recall_mrr(ranks)


def squad_set(path: Path, embedder, limit: int):
    from qa.ingest.corpus import Document
    from qa.retrieval.retriever import Retriever
    from qa.ingest.squad_files import load_squad, squad_paragraphs

    retriever = Retriever(documents=[Document(f"p{i}", t) for i, t in enumerate(squad_paragraphs(path))], embedder=embedder)
    examples = [e for e in load_squad(path) if e.answers][:limit]
    return collect(retriever, [(e.question, lambda h, golds=[a for a, _ in e.answers]: any(g in h.text for g in golds)) for e in examples])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="an archive built by eval.archive (with --corpus-dir)")
    parser.add_argument("--corpus-dir", type=Path, help="the archive's files (eval.archive corpus)")
    parser.add_argument("--limit", type=int, default=100_000, help="questions per SQuAD file")
    add_data_arg(parser)
    args = parser.parse_args()

    from qa.ingest.corpus import Document
    from qa.encoders.embedder import Embedder
    from qa.evaluation.runner import load_cases
    from qa.retrieval.retriever import Retriever

    embedder = Embedder()
    sets = {}
    article = Retriever(embedder=embedder)
    sets["article"] = collect(article, [(c.question, lambda h, golds=c.golds: any(g in h.text for g in golds)) for c in load_cases(QUESTIONS) if c.golds])
    dams = Retriever(documents=[Document("dams.txt", identifier_text())], embedder=embedder)
    sets["identifier"] = collect(dams, [(q, lambda h, line=line: line in h.text) for q, _, line in IDENTIFIER_QUESTIONS])
    for name in ("cmrc2018_dev", "squad2_zh_dev"):
        sets[name] = squad_set(args.data / "dev" / f"{name}.json", embedder, args.limit)
    if args.store:
        from eval.archive import cmrc_questions

        cases = random.Random(1).sample(cmrc_questions(args.corpus_dir, "all", args.data), 300)
        sets["archive"] = collect(Retriever(store=args.store, embedder=embedder), [(e.question, lambda h, d=gold: h.doc_id == d) for e, gold in cases])
    for name, collected in sets.items():
        for decisive in LEADS:
            print(json.dumps({"set": name, "questions": len(collected), "decisive_lead": decisive, **scores(collected, decisive)}), flush=True)


if __name__ == "__main__":
    main()
