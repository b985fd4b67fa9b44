"""Command line: ``qa index | search | ask | chat | eval | train-reader | info``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from qa.assistant import check_question
from qa.corpus import CorpusError
from qa.e5 import MissingModelPackage
from qa.retriever import MODES
from qa.settings import Settings, apply_threads, resolve, with_flags

REREAD_HELP = "read the top spans again in their sentences (the default: one more short forward pass, CMRC dev EM +4.4); --no-reread reads once"


def _corpus_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", action="append", metavar="PATH", help="a .txt/.md file or folder (repeatable); default: the bundled article")


def _answering_args(parser: argparse.ArgumentParser) -> None:
    """The options of ``ask`` and ``eval``: the answering settings (:func:`settings_of`) and the corpus."""
    from qa.cpu import PRECISIONS

    parser.add_argument("-k", type=int, default=None, help="chunks to read per question (default: QA_K, else 3)")
    parser.add_argument("--reread", action=argparse.BooleanOptionalAction, help=REREAD_HELP)
    parser.add_argument("--decisive", type=float, metavar="C", help="read the chunks one at a time, best first, and stop once an answer has confidence >= C (0: always read all together; default 0.6)")
    parser.add_argument("--precision", choices=PRECISIONS, help="reader precision (default: QA_PRECISION, else bf16 on CPUs with native bf16, else fp32)")
    _corpus_arg(parser)


def _repeat(text: str) -> tuple[str, int]:
    name, _, times = text.partition("=")
    if not times.isdigit() or int(times) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=N with N >= 1, not {text!r}")
    return name, int(times)


def settings_of(args) -> Settings:
    """The settings in force: defaults, then the environment, then this command's flags
    (``ask`` and ``eval`` set the answering ones; ``--decisive 0`` or less: read all chunks together)."""
    settings = resolve()
    if args.command in ("ask", "chat", "eval"):
        settings = with_flags(settings, precision=args.precision, k=args.k, reread=args.reread)
        if args.decisive is not None:
            settings = replace(settings, decisive=args.decisive if args.decisive > 0 else None, sources={**settings.sources, "decisive": "flag"})
    apply_threads(settings)
    return settings


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    print()


def cmd_index(args) -> None:
    from qa.embedder import Embedder
    from qa.retriever import Retriever

    started = time.perf_counter()
    retriever = Retriever(args.corpus, embedder=Embedder(args.settings.cache))
    state = "built" if retriever.index.rebuilt else "up to date"
    print(f"index {state}: {len(retriever.documents)} document(s), {len(retriever.chunks)} chunks, {time.perf_counter() - started:.1f} s")


def cmd_search(args) -> None:
    from qa.embedder import Embedder
    from qa.retriever import Retriever

    check_question(args.question, args.settings.max_question_chars)
    hits = Retriever(args.corpus, embedder=Embedder(args.settings.cache)).search(args.question, k=args.k, mode=args.mode)
    if args.json:
        _print_json([{"text": h.text, "doc_id": h.doc_id, "start": h.start, "end": h.end, "score": h.score} for h in hits])
        return
    for rank, h in enumerate(hits, 1):
        ranks = f"dense #{h.dense_rank or '-'}, bm25 #{h.bm25_rank or '-'}"
        print(f"{rank}. [{h.doc_id} {h.start}-{h.end}] score {h.score:.4f} ({ranks})\n   {h.text}\n")


def cmd_ask(args) -> None:
    from qa.assistant import Assistant

    check_question(args.question, args.settings.max_question_chars)
    answer = Assistant.from_corpus(args.corpus, settings=args.settings).ask(args.question)
    if args.json:
        _print_json(answer.to_json())
    else:
        from qa.terminal import print_answer

        print_answer(answer)


def cmd_chat(args) -> None:
    from qa.assistant import Assistant
    from qa.terminal import chat

    chat(Assistant.from_corpus(args.corpus, settings=args.settings), as_json=args.json)


def cmd_eval(args) -> None:
    from qa.conversation_eval import kind_of

    if kind_of(args.file):
        return eval_conversation(args, kind_of(args.file))
    from qa.evaluate import evaluate, predictions, write_report
    from qa.scores import format_table

    summary, outcomes = evaluate(args.file, args.mode, args.corpus, args.k, args.weights, args.reread, args.settings, args.limit)
    print("\n".join(format_table(summary)))
    if args.predictions:
        args.predictions.write_text(json.dumps(predictions(outcomes, summary["threshold"]), ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.report:
        write_report(args.report, outcomes, summary)


def eval_conversation(args, kind: str) -> None:
    """``qa eval`` of a dialogue or why/how set: the summary, ``--json`` it, ``--predictions`` every row."""
    from qa.assistant import Assistant
    from qa.conversation_eval import (
        evaluate_dialogues,
        evaluate_why_how,
        format_conversation,
    )

    assistant = Assistant.from_corpus(args.corpus, settings=args.settings)
    run = evaluate_dialogues if kind == "dialogues" else evaluate_why_how
    summary, rows = run(args.file, assistant, args.limit)
    print("\n".join(format_conversation(kind, summary)))
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.predictions:
        args.predictions.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def cmd_info(args) -> None:
    from qa.info import info_lines

    print("\n".join(info_lines(args.settings, args.corpus)))


def cmd_train_reader(args) -> None:
    from qa.train_reader import TrainConfig, train

    cfg = TrainConfig(
        epochs=args.epochs,
        total_steps=args.total_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        max_length=args.max_length,
        negative_rate=args.negative_rate,
        distractor_rate=args.distractor_rate,
        removal_rate=args.removal_rate,
        threads=args.threads or args.settings.threads,
        oversample=dict(args.oversample or []),
        answerable_weight=args.answerable_weight,
        **({"bf16": args.precision == "bf16"} if args.precision else {}),
    )
    overlay = train(args.train, args.out, cfg, args.settings.cache, init=args.init, max_steps=args.max_steps)
    print(f"trained weights: {overlay}")
    if args.dev:
        from qa.evaluate import evaluate_reader

        summary = evaluate_reader(args.dev, overlay)
        print(json.dumps(summary, ensure_ascii=False))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Question answering over a Chinese article.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build (or check) the index of a corpus")
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
    p.add_argument("--json", type=Path, help="write the summary JSON here")
    p.add_argument("--report", type=Path, help="write a Markdown report of wrong answers here")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--weights", type=Path, help="reader weights to evaluate (default: the shipped ones)")
    _answering_args(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("info", help="the CPU's instruction sets, the precision and threads chosen, versions and paths")
    _corpus_arg(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("train-reader", help="fine-tune the reader on SQuAD-format data")
    p.add_argument("--train", nargs="+", required=True, metavar="FILE")
    p.add_argument("--dev", metavar="FILE", help="SQuAD file to score the result on")
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints and the exported weights")
    p.add_argument("--init", type=Path, help="start from these weights (e.g. qa/weights/reader.safetensors)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--total-steps", type=int, help="length of the LR schedule (overrides --epochs; may be raised when resuming)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--negative-rate", type=float, default=0.2, help="share of answerless windows kept (CLS target)")
    p.add_argument("--distractor-rate", type=float, default=0.0, help="share of questions also paired with a BM25-retrieved other context (CLS target)")
    p.add_argument("--removal-rate", type=float, default=0.0, help="share of questions also paired with their context minus the answer's sentences (CLS target)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps (resume later)")
    p.add_argument("--threads", type=int, help="torch threads")
    p.add_argument("--oversample", type=_repeat, action="append", metavar="NAME=N", help="use the questions of training file NAME N times (repeatable), to set the mix")
    p.add_argument("--precision", choices=("fp32", "bf16"), help="autocast precision (default: bf16 only on a CPU with native bf16)")
    p.add_argument("--answerable-weight", type=float, default=0.0, help="> 0: also train an answerability head on the [CLS] state (loss weight); unanswerable questions then teach only that head")
    p.set_defaults(func=cmd_train_reader)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.settings = settings_of(args)
        args.func(args)
    except (CorpusError, MissingModelPackage, ValueError, FileNotFoundError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    return 0
