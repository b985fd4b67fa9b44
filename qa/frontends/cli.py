"""Command line: ``qa index | search | ask | chat | eval | train-reader | info``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from qa.conversation.question import check_question
from qa.frontends.cli_train import add_train_parser
from qa.ingest.corpus import CorpusError
from qa.encoders.e5 import MissingModelPackage
from qa.retrieval.retriever import MODES
from qa.settings import Settings, apply_threads, resolve, with_flags
from qa.retrieval.stores.base import StoreError

STORE_HELP = "answer from an archive built by qa index --store: a folder (FAISS), a .db file (Milvus Lite) or http://host:19530 (Milvus); default: QA_STORE"
REREAD_HELP = "read the top spans again in their sentences (the default: one more short forward pass, CMRC dev EM +4.4); --no-reread reads once"


def _corpus_arg(parser: argparse.ArgumentParser, store: bool = True) -> None:
    parser.add_argument("--corpus", action="append", metavar="PATH", help="a .txt/.md/.pdf/.docx/.html file or folder (repeatable); default: the bundled article")
    if store:
        parser.add_argument("--store", metavar="URI", help=STORE_HELP)


def _source(args) -> dict:
    """``corpus`` or ``store`` for the retriever: ``--store`` (or ``QA_STORE`` when no ``--corpus`` is given) over the corpus."""
    if args.store and args.corpus:
        raise ValueError("give --corpus or --store, not both (qa index --corpus FOLDER --store URI builds the store)")
    store = args.store or (None if args.corpus else args.settings.store)
    return {"store": store} if store else {"corpus": args.corpus}


def _answering_args(parser: argparse.ArgumentParser) -> None:
    """The options of ``ask`` and ``eval``: the answering settings (:func:`settings_of`) and the corpus."""
    from qa.encoders.cpu import PRECISIONS

    parser.add_argument("-k", type=int, default=None, help="chunks to read per question (default: QA_K, else 3)")
    parser.add_argument("--reread", action=argparse.BooleanOptionalAction, help=REREAD_HELP)
    parser.add_argument("--decisive", type=float, metavar="C", help="read the chunks one at a time, best first, and stop once an answer has confidence >= C (0: always read all together; default 0.6)")
    parser.add_argument("--precision", choices=PRECISIONS, help="reader precision (default: QA_PRECISION, else bf16 on CPUs with native bf16, else fp32)")
    _corpus_arg(parser)


def settings_of(args) -> Settings:
    """The settings in force: defaults, then the environment, then this command's flags
    (``ask`` and ``eval`` set the answering ones; ``--decisive 0`` or less: read all chunks together)."""
    settings = resolve()
    if args.command in ("ask", "chat", "eval"):
        settings = with_flags(settings, precision=args.precision, k=args.k, reread=args.reread)
        if args.decisive is not None:
            settings = replace(settings, decisive=args.decisive if args.decisive > 0 else None, sources={**settings.sources, "decisive": "flag"})
    if getattr(args, "store", None):
        settings = with_flags(settings, store=args.store)
    apply_threads(settings)
    return settings


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    print()


def cmd_index(args) -> None:
    from qa.encoders.embedder import Embedder
    from qa.retrieval.retriever import Retriever

    started = time.perf_counter()
    embedder = Embedder(args.settings.cache, args.settings.threads)
    store = args.store or args.settings.store
    if store:
        from qa.retrieval.archive_sync import archive_ids, store_meta, sync
        from qa.retrieval.stores import open_store

        if not args.corpus:
            raise ValueError("qa index --store URI needs --corpus FOLDER: the files the archive holds")
        archive = open_store(store, store_meta(embedder))
        try:
            report = sync(archive, archive_ids(args.corpus), embedder)
            print("\n".join([*report.lines(), f"store {store}: {len(archive)} chunks"]))
        finally:
            archive.close()
        return
    retriever = Retriever(args.corpus, embedder=embedder)
    state = "built" if retriever.index.rebuilt else "up to date"
    print(f"index {state}: {len(retriever.documents)} document(s), {len(retriever.chunks)} chunks, {time.perf_counter() - started:.1f} s")


def cmd_search(args) -> None:
    from qa.encoders.embedder import Embedder
    from qa.retrieval.retriever import Retriever

    check_question(args.question, args.settings.max_question_chars)
    hits = Retriever(**_source(args), embedder=Embedder(args.settings.cache, args.settings.threads)).search(args.question, k=args.k, mode=args.mode)
    if args.json:
        _print_json([{"text": h.text, "doc_id": h.doc_id, "start": h.start, "end": h.end, "score": h.score} for h in hits])
        return
    for rank, h in enumerate(hits, 1):
        ranks = f"dense #{h.dense_rank or '-'}, bm25 #{h.bm25_rank or '-'}"
        print(f"{rank}. [{h.doc_id} {h.start}-{h.end}] score {h.score:.4f} ({ranks})\n   {h.text}\n")


def cmd_ask(args) -> None:
    from qa.assistant import Assistant

    check_question(args.question, args.settings.max_question_chars)
    answer = Assistant.from_corpus(**_source(args), settings=args.settings).ask(args.question)
    if args.json:
        _print_json(answer.to_json())
    else:
        from qa.frontends.terminal import print_answer

        print_answer(answer, show_guess=args.guess)


def cmd_chat(args) -> None:
    from qa.assistant import Assistant
    from qa.frontends.terminal import chat

    chat(Assistant.from_corpus(**_source(args), settings=args.settings), as_json=args.json)


def cmd_eval(args) -> None:
    from qa.evaluation.conversation_sets import kind_of

    if kind_of(args.file):
        return eval_conversation(args, kind_of(args.file))
    from qa.evaluation.runner import evaluate, predictions, write_report
    from qa.evaluation.summary import format_table

    source = _source(args)
    summary, outcomes = evaluate(args.file, args.mode, source.get("corpus"), args.k, args.weights, args.reread, args.settings, args.limit, source.get("store"))
    print("\n".join(format_table(summary)))
    if args.predictions:
        args.predictions.write_text(json.dumps(predictions(outcomes, args.view or summary["view"]), ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.report:
        write_report(args.report, outcomes, summary, args.view or summary["view"])
    if args.outcomes:
        args.outcomes.write_text("".join(json.dumps(o.to_json(), ensure_ascii=False) + "\n" for o in outcomes), encoding="utf-8")


def eval_conversation(args, kind: str) -> None:
    """``qa eval`` of a dialogue or why/how set: the summary, ``--json`` it, ``--predictions`` every row."""
    from qa.assistant import Assistant
    from qa.evaluation.conversation_sets import (
        evaluate_dialogues,
        evaluate_why_how,
        format_conversation,
    )

    assistant = Assistant.from_corpus(**_source(args), settings=args.settings)
    run = evaluate_dialogues if kind == "dialogues" else evaluate_why_how
    summary, rows = run(args.file, assistant, args.limit)
    print("\n".join(format_conversation(kind, summary)))
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.predictions:
        args.predictions.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def cmd_info(args) -> None:
    from qa.frontends.info import info_lines

    print("\n".join(info_lines(args.settings, args.corpus)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Question answering over a Chinese article.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build (or check) the index of a corpus; with --store, add the corpus to an archive (incremental, resumable)")
    _corpus_arg(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="retrieve the chunks that best match a question")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="number of chunks (default 5)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--json", action="store_true", help="print a JSON list of hits")
    _corpus_arg(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question from the corpus")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--guess", action="store_true", help="when abstaining, also print the best answer withheld, marked as unsure")
    _answering_args(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal (or one question a line on standard input), with follow-up questions")
    p.add_argument("--json", action="store_true", help="print each answer as one JSON line")
    _answering_args(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="evaluate on a labelled set (.jsonl questions, dialogues or why/how questions, or SQuAD .json)")
    p.add_argument("file", type=Path)
    p.add_argument("--mode", choices=("open", "reader"), default="open", help="SQuAD files: open-domain over all paragraphs, or reader-only")
    p.add_argument("--predictions", type=Path, help="write {id: answer} here")
    p.add_argument("--view", choices=("strict", "shown", "all"), help="the answers --predictions and --report count: sure ones (strict, the default), sure and unsure (shown), or every best answer (all)")
    p.add_argument("--json", type=Path, help="write the summary JSON here")
    p.add_argument("--report", type=Path, help="write a Markdown report of wrong answers here")
    p.add_argument("--outcomes", type=Path, help="write each question's outcome here, one JSON line each (source, golds, best answer, grade, confidence and its features: python -m eval.calibrate fits the grades on them)")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--weights", type=Path, help="reader weights to evaluate (default: the shipped ones)")
    _answering_args(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("info", help="the CPU's instruction sets, the precision and threads chosen, versions and paths")
    _corpus_arg(p, store=False)
    p.set_defaults(func=cmd_info)

    add_train_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.settings = settings_of(args)
        args.func(args)
    except (CorpusError, MissingModelPackage, StoreError, ValueError, FileNotFoundError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted (an archive build resumes where it stopped when run again)", file=sys.stderr)
        return 130
    return 0
