"""Start a replica: ``python app.py [--host H] [--port P] [--corpus PATH ... | --store URI] [--precision P]``.

The REST API and its probes (:mod:`qa.frontends.api`) serve at once; the models load in the
background (:class:`qa.frontends.service.Service`), and the chat (Gradio, whose import alone
takes seconds) is mounted at ``/`` once they are loaded.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import urllib.request

from qa.encoders.cpu import PRECISIONS

log = logging.getLogger("qa.server")


def mount_chat(api, service, host: str, port: int) -> None:
    """Once ``service`` is loaded, build the chat and mount it on ``api`` at ``/``, then start its queue."""
    service.loaded.wait()
    import gradio as gr

    from qa.frontends.app.layout import CSS, JUMP_SCRIPT, build_app

    blocks = build_app(service.library.default, service.settings.max_document_chars, service.library, service.readiness, service.model_lock)
    gr.mount_gradio_app(api, blocks, path="/", server_name=host, server_port=port, footer_links=[], show_error=False, css=CSS, head=JUMP_SCRIPT)
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    urllib.request.urlopen(f"http://{local}:{port}/gradio_api/startup-events", timeout=30).read()  # the queue starts: the server started before the chat was mounted
    log.info("chat mounted at http://%s:%d/", host, port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Browser chat and REST API over Chinese news text, or a text of your own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--corpus", action="append", metavar="PATH", help="a .txt/.md/.pdf/.docx/.html file or folder (repeatable)")
    parser.add_argument("--store", metavar="URI", help="answer from an archive built by qa index --store (a folder, a .db file or http://host:19530); default: QA_STORE")
    parser.add_argument("--precision", choices=PRECISIONS, help="reader precision (default: QA_PRECISION, else chosen for the CPU: qa info)")
    args = parser.parse_args(argv)

    from qa.ingest.corpus import CorpusError, load_corpus
    from qa.settings import apply_threads, resolve, with_flags

    try:
        settings = with_flags(resolve(), precision=args.precision, store=args.store)
        if args.corpus:
            load_corpus(args.corpus)  # a bad file is the operator's to fix: one line, exit 2
    except (ValueError, CorpusError) as exc:
        parser.exit(2, f"app.py: error: {exc}\n")
    apply_threads(settings)  # before torch can load
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("qa").setLevel(logging.INFO)

    import uvicorn

    from qa.frontends.api import create_api
    from qa.frontends.service import Service

    def fatal(exc: Exception) -> None:
        print(f"app.py: error: {exc}", file=sys.stderr, flush=True)
        os._exit(2)

    service = Service(settings, args.corpus, on_fatal=fatal)
    api = create_api(service)
    service.start()
    threading.Thread(target=mount_chat, args=(api, service, args.host, args.port), name="qa-chat", daemon=True).start()
    uvicorn.run(api, host=args.host, port=args.port, log_level="warning")
