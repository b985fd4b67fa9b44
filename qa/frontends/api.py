"""The REST API, in the same process as the chat: ``POST /v1/ask``, ``POST /v1/ask/file`` (a
question about an uploaded file: PDF, Word, web page, text, image), ``GET /healthz``,
``GET /readyz``; OpenAPI at ``/docs``. Errors are JSON with an HTTP status: 400 bad input, 413
too large, 429 over a limit (with ``Retry-After``), 503 not ready or the store failing."""

from __future__ import annotations

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from qa.frontends.service import RETRY_AFTER, Service

class AskRequest(BaseModel):
    """A question, from the replica's corpus or from ``document`` alone (indexed on the fly)."""

    question: str = Field(description="the question, Simplified or Traditional Chinese")
    k: int | None = Field(None, ge=1, description="chunks to read (default: the replica's k)")
    history: list[tuple[str, str]] = Field(default_factory=list, description="earlier turns as [question, answer] pairs, oldest first")
    document: str | None = Field(None, description="answer from this text alone")


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, retry_after: int | None = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.retry_after = status, error, detail, retry_after


def create_api(service: Service) -> FastAPI:
    """The FastAPI app of ``service``; the chat (Gradio) is mounted on it at ``/`` once loaded."""
    app = FastAPI(title="qa: questions over Chinese news text", version="0.2.0", description=__doc__)

    def index(library, document, http: Request) -> str:
        """``document``'s key, indexed (keywords now, dense side in the background) while its
        client (by IP) holds its one indexing slot; past the limits, 429."""
        from qa.frontends.assistants import Busy

        try:
            return library.add(document, client=f"ip:{http.client.host if http.client else 'unknown'}")
        except Busy as exc:
            raise ApiError(429, "too_many_documents", f"{exc}: try again", RETRY_AFTER) from exc

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=headers)

    @app.get("/healthz", summary="the process is alive")
    def healthz() -> dict:
        return {"alive": True}

    @app.get("/readyz", summary="ready to answer: models loaded, store reachable and holding documents")
    def readyz():
        state = service.readiness()
        return JSONResponse(state.to_json(), status_code=200 if state.ready else 503)

    def answer(question: str, k: int | None, history: list, document_of, http: Request) -> dict:
        """The answer from the replica's corpus, or from the document ``document_of()`` gives
        (``None``: no document), with every error as an :class:`ApiError`."""
        from qa.conversation.question import check_question
        from qa.ingest.corpus import CorpusError
        from qa.retrieval.stores.base import StoreError

        state = service.readiness()
        if not state.ready:
            raise ApiError(503, state.reason, state.detail, RETRY_AFTER)
        limit = service.settings.max_question_chars
        if len(question) > limit:
            raise ApiError(413, "question_too_long", f"the question has {len(question)} characters, the limit is {limit}")
        try:
            question = check_question(question, limit)
            library = service.library
            document = document_of()
            target = library.get(index(library, document, http)) if document is not None else library.default
            with service.model_lock:
                return target.ask(question, k=k, history=[list(turn) for turn in history]).to_json()
        except CorpusError as exc:
            raise ApiError(400, "bad_document", str(exc)) from exc
        except ValueError as exc:
            raise ApiError(400, "bad_question", str(exc)) from exc
        except Exception as exc:  # a store that fails mid-call: not ready, not an abstention
            if type(exc).__module__.startswith("pymilvus") or isinstance(exc, StoreError):
                detail = str(exc).splitlines()[0][:300]
                service.store_failed(detail)
                raise ApiError(503, "store_unreachable", detail, RETRY_AFTER) from exc
            raise

    @app.post("/v1/ask", summary="answer a question: the qa ask --json object")
    def ask(request: AskRequest, http: Request) -> dict:
        from qa.ingest.corpus import document_from_text

        chars = service.settings.max_document_chars
        if request.document is not None and len(request.document) > chars:
            raise ApiError(413, "document_too_large", f"the document has {len(request.document):,} characters, the limit is {chars:,}")
        text = request.document
        return answer(request.question, request.k, request.history, lambda: document_from_text(text, "document", chars) if text else None, http)

    @app.post("/v1/ask/file", summary="answer a question about an uploaded file (PDF, Word, web page, text, image): the qa ask --json object")
    def ask_file(http: Request, question: str = Form(...), file: UploadFile = File(...), k: int | None = Form(None, ge=1)) -> dict:
        from qa.ingest.corpus import MAX_FILE_BYTES, parse_document

        raw = file.file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ApiError(413, "file_too_large", f"the file is over {MAX_FILE_BYTES:,} bytes")
        name = file.filename or "upload"
        return answer(question, k, [], lambda: parse_document(raw, name, max_chars=service.settings.max_document_chars), http)

    return app
