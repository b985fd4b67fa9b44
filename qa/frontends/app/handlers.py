"""What the chat's events do: answer a question in the session's document, switch to a pasted
or uploaded text, go back to the default corpus, and the ``/ask`` and ``/answer`` endpoints.

Each browser session has its own document (the bundled corpus until the user pastes or
uploads another); uploaded documents are kept by content hash in a small :class:`DocumentAssistants`,
and, over a Milvus server, in the store too, where every replica finds them (:mod:`qa.retrieval.uploads`).
"""

from __future__ import annotations

import html
import logging
import threading
from pathlib import Path

import gradio as gr

from qa.conversation.question import check_question
from qa.frontends.app.page_image import page_figure
from qa.frontends.app.render import document_html, document_status, passages_html, reply_markdown, store_label
from qa.assistant import Assistant
from qa.frontends.assistants import Busy, DocumentAssistants
from qa.frontends.service import RETRY_AFTER
from qa.conversation.follow_ups import as_turns
from qa.ingest.corpus import (
    MAX_FILE_BYTES,
    SUFFIXES,
    CorpusError,
    Document,
    parse_document,
    document_from_text,
)

log = logging.getLogger("qa.frontends.app")


class Handlers:
    """The chat's event handlers over one :class:`DocumentAssistants`. ``max_document_chars``: the longest
    text a user may paste or upload."""

    def __init__(self, assistant: Assistant, max_document_chars: int, library: DocumentAssistants | None = None, model_lock=None):
        """``model_lock``: held by every call that runs the reader (shared with the REST API);
        indexing a new text does not hold it, so questions keep flowing while texts are indexed."""
        self.library = library or DocumentAssistants(assistant)
        self.max_document_chars = max_document_chars
        self.model_lock = model_lock or threading.Lock()

    @property
    def max_question_chars(self) -> int:
        return self.library.default.settings.max_question_chars

    @staticmethod
    def documents(current: Assistant, doc_ids=()) -> list[Document]:
        """The documents to show: a corpus of one text, whole; of a larger corpus or an archive,
        only those named in ``doc_ids`` (the answers'), so the page never carries the corpus."""
        retriever = current.retriever
        listed = retriever.documents
        if len(listed) == 1:
            return listed
        named = [d for d in dict.fromkeys(doc_ids) if d is not None]
        by_id = {d.doc_id: d for d in listed}
        return [by_id[d] for d in named if d in by_id] if listed else [Document(d, retriever.document_text(d)) for d in named]

    def view(self, key: str | None, marks: list) -> str:
        """The session's whole document with the chat's answers ``marks`` highlighted, and the
        latest answer's PDF page, drawn with the answer marked, above it."""
        current = self.library.get(key)
        anchors: dict[str, set[int]] = {}
        for c in current.retriever.chunks:
            anchors.setdefault(c.doc_id, set()).add(c.start)
        documents = self.documents(current, [m[0] for m in marks])
        latest = next((d for d in documents if marks and d.doc_id == marks[-1][0]), None)
        figure = page_figure(latest, *marks[-1][1:3]) if latest is not None else ""  # a PDF answer on its page
        return figure + document_html(documents, [tuple(m) for m in marks], anchors)

    def status(self, key: str | None) -> str:
        current = self.library.get(key)
        if not current.retriever.documents:
            return f"当前资料库：**{html.escape(store_label(current.retriever.store.uri))}**（{len(current.retriever.store):,} 个段落）。"
        return document_status(current.retriever.documents, key is not None, key in self.library.pending)

    def respond(self, message: str, history: list, k: int, key: str | None, marks: list, turns: list, show_guess: bool = False):
        """Answer ``message`` in the session's document, knowing the conversation's earlier
        ``turns`` (an abstention shows its withheld guess with ``show_guess``): the chat, the
        emptied box, the passages, the document view, the marks, the turns."""
        history = list(history or [])
        marks = list(marks or [])
        turns = list(turns or [])
        question = (message or "").strip()
        history.append({"role": "user", "content": question or "（空）"})
        passages = ""
        current = self.library.get(key)
        try:
            with self.model_lock:
                answer = current.ask(check_question(question, self.max_question_chars), k=int(k), history=turns)
            turns = [*turns, *as_turns([answer])]
            documents = self.documents(current, [answer.doc_id, *(h.doc_id for h in answer.passages)])
            text, passages = reply_markdown(answer, documents, show_guess), passages_html(answer, documents)
            if not answer.abstained:
                marks.append((answer.doc_id, answer.start, answer.end, answer.grade))
        except ValueError:
            if len(question) > self.max_question_chars:
                text = f"问题太长了（{len(question)} 个字），请精简到 {self.max_question_chars} 字以内再问。"
            else:
                text = f"请输入一个问题（不超过 {self.max_question_chars} 个字）。" if question else "请输入一个问题。"
        except Exception:  # noqa: BLE001 - the chat must never show a traceback
            log.exception("answering failed")
            text = "抱歉，回答这个问题时出错了，请换个问法再试。"
        history.append({"role": "assistant", "content": text})
        return history, "", passages, self.view(key, marks), marks, turns

    def read_upload(self, upload: str) -> Document:
        """The uploaded file as a document (:func:`qa.ingest.corpus.parse_document`); ``CorpusError``
        for a wrong or lying type, too big, not UTF-8, empty, binary, encrypted or corrupt."""
        path = Path(upload)
        limit = 4 * self.max_document_chars if path.suffix.lower() in (".txt", ".md") else MAX_FILE_BYTES  # UTF-8: at most 4 bytes a character
        if path.stat().st_size > limit:
            raise CorpusError(f"{path.name}: {path.stat().st_size:,} bytes, over the limit of {limit:,}")
        if path.suffix.lower() not in SUFFIXES:
            raise CorpusError(f"{path.name}: only {' / '.join(SUFFIXES)} files can be used")
        return parse_document(path.read_bytes(), path.name, max_chars=self.max_document_chars, source=str(path))

    def use_document(self, pasted: str, upload: str | None, key: str | None, marks: list, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
        """Index the uploaded file (or else the pasted text) for this session; a bad one, or one
        sent while this session's last text is still being indexed (or the indexing queue is
        full), changes nothing but the status line. The file box is emptied either way."""
        try:
            if upload:
                document = self.read_upload(upload)
            elif (pasted or "").strip():
                document = document_from_text(pasted, "粘贴的文本", self.max_document_chars)
            else:
                raise CorpusError(f"请先粘贴文本或选择一个 {' / '.join(SUFFIXES)} 文件")
            progress(0, desc="正在切分并建立索引…")
            new_key = self.library.add(document, client=f"session:{getattr(request, 'session_hash', None) or id(request)}")
        except CorpusError as error:
            status = f"⚠️ 无法使用这篇文章：{html.escape(str(error))}。当前文章不变。\n\n" + self.status(key)
            return key, marks, status, gr.update(), gr.update(), None, gr.update()
        except Busy:
            status = f"⚠️ 上一篇文本还在建立索引（或正在建立索引的人太多），请约 {RETRY_AFTER} 秒后再试。当前文章不变。\n\n" + self.status(key)
            return key, marks, status, gr.update(), gr.update(), None, gr.update()
        return new_key, [], self.status(new_key), self.view(new_key, []), [], None, []

    def use_default(self):
        return None, [], self.status(None), self.view(None, []), [], []

    def clear(self, key: str | None):
        return [], "", "", self.view(key, []), [], []

    def ask(self, questions: list[str]) -> tuple[list[str]]:
        """Answer texts for the questions that arrived together (Gradio's queue batches ``/ask``;
        each caller sends one question and gets one string) from the default corpus, read in
        shared forward passes; ``""`` when the text does not say or a question is unusable."""
        usable = {}
        for i, question in enumerate(questions):
            try:
                usable[i] = check_question(question or "", self.max_question_chars)
            except ValueError:
                pass
        with self.model_lock:
            answers = dict(zip(usable, (a.answer for a in self.library.default.ask_batch(list(usable.values()))))) if usable else {}
        return ([answers.get(i, "") for i in range(len(questions))],)

    def answer(self, question: str, document: str = "", history: list | None = None) -> dict:
        """The ``qa ask --json`` object for ``question``: from ``document`` alone when it is
        given (``document[start:end] == answer``), else from the default corpus; ``history``:
        the conversation's earlier turns as ``[question, answer]`` pairs, oldest first. An
        unusable question or document gives an empty answer and an ``error``."""
        try:
            target = self.library.get(self.library.add(document_from_text(document, "document", self.max_document_chars))) if document else self.library.default
            with self.model_lock:
                return target.ask(check_question(question or "", self.max_question_chars), history=as_turns(history)).to_json()
        except ValueError as error:  # CorpusError is one
            return {"question": question, "answer": "", "confidence": 0.0, "doc_id": None, "start": None, "end": None, "evidence": "", "passages": [], "grade": "none", "error": str(error)}
