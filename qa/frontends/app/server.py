"""Start the chat: ``python app.py [--host H] [--port P] [--corpus PATH ... | --store URI] [--precision P]``."""

from __future__ import annotations

import argparse
import os

from qa.encoders.cpu import PRECISIONS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Browser chat about the article, or a text of your own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--corpus", action="append", metavar="PATH", help="a .txt/.md/.pdf/.docx/.html file or folder (repeatable)")
    parser.add_argument("--store", metavar="URI", help="answer from an archive built by qa index --store (a folder, a .db file or http://host:19530); default: QA_STORE")
    parser.add_argument("--precision", choices=PRECISIONS, help="reader precision (default: QA_PRECISION, else chosen for the CPU: qa info)")
    args = parser.parse_args(argv)

    from qa.assistant import Assistant
    from qa.ingest.corpus import CorpusError
    from qa.encoders.e5 import MissingModelPackage
    from qa.settings import apply_threads, resolve, with_flags
    from qa.retrieval.stores.base import StoreError

    try:
        settings = with_flags(resolve(), precision=args.precision, store=args.store)
    except ValueError as exc:
        parser.exit(2, f"app.py: error: {exc}\n")
    apply_threads(settings)  # before torch can load
    from qa.frontends.app.layout import CSS, EXAMPLES, JUMP_SCRIPT, build_app

    try:
        assistant = Assistant.from_corpus(args.corpus, settings=settings)
    except (CorpusError, MissingModelPackage, StoreError) as exc:
        parser.exit(2, f"app.py: error: {exc}\n")
    assistant.ask(EXAMPLES[0])  # warm-up: the first user question is answered at full speed
    app = build_app(assistant, settings.max_document_chars)
    app.launch(server_name=args.host, server_port=args.port, show_error=False, footer_links=[], css=CSS, head=JUMP_SCRIPT)
