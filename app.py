"""Browser chat about the article, or a text of your own: ``python app.py [--host H] [--port P] [--corpus PATH ...]``.

A thin Gradio UI on :class:`qa.Assistant`. Each browser session has its own document (the
bundled corpus until the user pastes or uploads another); the whole document is shown with
every answer of the chat highlighted in place. API endpoints: ``/ask`` (question in, answer
text out, ``""`` when the text does not say) and ``/answer`` (question and an optional
document in, the ``qa ask --json`` object out).
"""

from __future__ import annotations

import argparse
import html
import logging
import os
from collections import OrderedDict
from pathlib import Path

import gradio as gr

from qa.assistant import ABSTAIN_MESSAGE, DEFAULT_K, Answer, Assistant, check_question
from qa.corpus import CorpusError, Document, corpus_hash, document_from_bytes, document_from_text
from qa.cpu import PRECISIONS
from qa.e5 import MissingModelPackage

EXAMPLES = [
    "长安汽车新能源汽车年销量突破了多少？",
    "重庆信息与智慧医学研究院由谁举办？",
    "璧山的生物制造中试平台投资了多少钱？",
    "長安汽車的新能源汽車年銷量突破了多少？",
    "全市产业创新综合体一共有多少家？",
]
CONCURRENCY = 1  # torch already uses both cores for one question; parallel passes only contend
MAX_DOCUMENT_CHARS = 200_000
KEPT_DOCUMENTS = 8  # uploaded documents whose assistants stay in memory (their indexes stay in $QA_CACHE)
SCROLL_TO_LATEST = "() => document.querySelector('#doc-view mark.latest')?.scrollIntoView({block: 'nearest'})"
JUMP_SCRIPT = """<script>
document.addEventListener('click', (event) => {
  const link = event.target.closest('[data-jump]');
  if (!link) return;
  event.preventDefault();
  const tab = [...document.querySelectorAll('button[role="tab"]')].find((b) => b.textContent.trim() === '全文');
  if (tab && tab.getAttribute('aria-selected') !== 'true') tab.click();
  setTimeout(() => document.getElementById(link.dataset.jump)?.scrollIntoView({block: 'center'}), 100);
});
</script>"""
CSS = """
#doc-view .doc-scroll { max-height: 460px; overflow-y: auto; line-height: 1.8; padding-right: 8px; }
#doc-view mark { background: #fde68a; } #doc-view mark.latest { background: #f59e0b; }
[data-jump] { cursor: pointer; color: #2563eb; }
"""
log = logging.getLogger("qa.app")


class Library:
    """The default assistant and those of uploaded documents, keyed by content hash; every
    assistant shares the default one's reader and embedder."""

    def __init__(self, default: Assistant):
        self.default = default
        self.uploaded: OrderedDict[str, Assistant] = OrderedDict()

    def get(self, key: str | None) -> Assistant:
        return self.uploaded.get(key, self.default) if key else self.default

    def add(self, document: Document) -> str:
        """Index ``document`` (or reuse its index) and return its key."""
        from qa.retriever import Retriever

        key = corpus_hash([document])
        if key not in self.uploaded:
            retriever = Retriever(documents=[document], embedder=self.default.retriever.embedder)
            self.uploaded[key] = Assistant(retriever, self.default.reader, k=self.default.k)
            while len(self.uploaded) > KEPT_DOCUMENTS:
                self.uploaded.popitem(last=False)
        self.uploaded.move_to_end(key)
        return key


def highlighted_evidence(answer: Answer) -> str:
    """The evidence sentence as HTML with the answer span marked."""
    at = answer.start - answer.evidence_start
    before, span, after = answer.evidence[:at], answer.evidence[at : at + len(answer.answer)], answer.evidence[at + len(answer.answer) :]
    return f"{html.escape(before)}<mark>{html.escape(span)}</mark>{html.escape(after)}"


def anchor(doc_index: int, offset: int) -> str:
    return f"at-{doc_index}-{offset}"


def passages_html(answer: Answer, documents: list[Document]) -> str:
    if not answer.passages:
        return "（没有检索到段落）"
    index = {d.doc_id: i for i, d in enumerate(documents)}
    return "".join(
        f'<p><b>{rank}.</b> <a data-jump="{anchor(index[h.doc_id], h.start)}" href="#">{html.escape(h.doc_id)} 字符 {h.start}–{h.end}</a><br>'
        f"{html.escape(h.text).replace(chr(10), ' ')}</p>"
        for rank, h in enumerate(answer.passages, 1)
    )


def reply_markdown(answer: Answer, documents: list[Document]) -> str:
    index = {d.doc_id: i for i, d in enumerate(documents)}
    if answer.abstained:
        closest = "\n".join(f"- `{h.doc_id}` 字符 {h.start}–{h.end}：{html.escape(h.text[:60])}…" for h in answer.passages[:3])
        return f"{ABSTAIN_MESSAGE}。\n\n最接近的段落：\n{closest}"
    jump = f'<a data-jump="{anchor(index[answer.doc_id], answer.start)}" href="#">在全文中查看</a>'
    return (
        f"**{html.escape(answer.answer)}**\n\n"
        f"依据：{highlighted_evidence(answer)}\n\n"
        f"来源：`{answer.doc_id}` 字符 {answer.start}–{answer.end} · 置信度 {answer.confidence:.0%} · {jump}"
    )


def document_html(documents: list[Document], marks: list[tuple[str, int, int]], anchors: dict[str, set[int]]) -> str:
    """Every document, paragraphs as in the source, answers ``marks`` (doc_id, start, end)
    highlighted (the last one as ``latest``), and an empty anchor at each offset in ``anchors``."""
    parts = ['<div class="doc-scroll">']
    latest = marks[-1] if marks else None
    for d, doc in enumerate(documents):
        ends = {s: e for s, e in sorted({(s, e) for doc_id, s, e in marks if doc_id == doc.doc_id})}
        points = set(anchors.get(doc.doc_id, ())) | set(ends)
        if len(documents) > 1:
            parts.append(f"<h4>{html.escape(doc.doc_id)}</h4>")
        parts.append("<p>")
        tag, until = "", -1  # the open <mark> tag and where it closes
        for i, ch in enumerate(doc.text):
            if i == until and tag:
                parts.append("</mark>")
                tag = ""
            if i in points:
                parts.append(f'<span id="{anchor(d, i)}"></span>')
            if i in ends and not tag:
                tag = '<mark class="latest">' if latest == (doc.doc_id, i, ends[i]) else "<mark>"
                until = ends[i]
                parts.append(tag)
            if ch == "\n":  # a paragraph break closes the mark and reopens it after (unless it ends there)
                if tag and i + 1 == until:
                    tag = ""
                    parts.append("</mark>")
                parts.append(f"{'</mark>' if tag else ''}</p><p>{tag}")
            else:
                parts.append(html.escape(ch))
        parts.append(("</mark>" if tag else "") + "</p>")
    parts.append("</div>")
    return "".join(parts).replace("<p></p>", "")


def document_status(documents: list[Document], uploaded: bool) -> str:
    names = "、".join(d.doc_id for d in documents)
    chars = sum(len(d.text) for d in documents)
    return f"当前文章：**{html.escape(names)}**（{chars:,} 字）" + ("，问答只针对这篇文章。" if uploaded else "（默认文章）。")


def build_app(assistant: Assistant) -> gr.Blocks:
    library = Library(assistant)

    def view(key: str | None, marks: list) -> str:
        current = library.get(key)
        anchors: dict[str, set[int]] = {}
        for c in current.retriever.chunks:
            anchors.setdefault(c.doc_id, set()).add(c.start)
        return document_html(current.retriever.documents, [tuple(m) for m in marks], anchors)

    def respond(message: str, history: list, k: int, key: str | None, marks: list):
        history = list(history or [])
        marks = list(marks or [])
        question = (message or "").strip()
        history.append({"role": "user", "content": question or "（空）"})
        passages = ""
        current = library.get(key)
        try:
            answer = current.ask(check_question(question), k=int(k))
            documents = current.retriever.documents
            text, passages = reply_markdown(answer, documents), passages_html(answer, documents)
            if not answer.abstained:
                marks.append((answer.doc_id, answer.start, answer.end))
        except ValueError:
            text = "请输入一个问题（不超过 2000 个字）。" if question else "请输入一个问题。"
            if len(question) > 2000:
                text = f"问题太长了（{len(question)} 个字），请精简到 2000 字以内再问。"
        except Exception:  # noqa: BLE001 - the chat must never show a traceback
            log.exception("answering failed")
            text = "抱歉，回答这个问题时出错了，请换个问法再试。"
        history.append({"role": "assistant", "content": text})
        return history, "", passages, view(key, marks), marks

    def use_document(pasted: str, upload: str | None, key: str | None, marks: list, progress=gr.Progress(track_tqdm=True)):
        """Index the uploaded file (or else the pasted text) for this session; a bad one changes
        nothing but the status line. The file box is emptied either way, ready for the next."""
        try:
            if upload:
                path = Path(upload)
                if path.stat().st_size > 4 * MAX_DOCUMENT_CHARS:  # UTF-8 takes at most 4 bytes a character
                    raise CorpusError(f"{path.name}: {path.stat().st_size:,} bytes, over the limit of {MAX_DOCUMENT_CHARS:,} characters")
                if path.suffix.lower() not in (".txt", ".md"):
                    raise CorpusError(f"{path.name}: only .txt and .md files can be used")
                document = document_from_bytes(path.read_bytes(), path.name, MAX_DOCUMENT_CHARS)
            elif (pasted or "").strip():
                document = document_from_text(pasted, "粘贴的文本", MAX_DOCUMENT_CHARS)
            else:
                raise CorpusError("请先粘贴文本或选择一个 .txt / .md 文件")
            progress(0, desc="正在切分并建立索引…")
            new_key = library.add(document)
        except CorpusError as error:
            current = library.get(key)
            status = f"⚠️ 无法使用这篇文章：{html.escape(str(error))}。当前文章不变。\n\n" + document_status(current.retriever.documents, key is not None)
            return key, marks, status, gr.update(), gr.update(), None
        current = library.get(new_key)
        return new_key, [], document_status(current.retriever.documents, True), view(new_key, []), [], None

    def use_default():
        return None, [], document_status(assistant.retriever.documents, False), view(None, []), []

    def ask(question: str) -> str:
        """Answer text for ``question`` from the default corpus; ``""`` when it does not say or the question is unusable."""
        try:
            return assistant.ask(check_question(question or "")).answer
        except ValueError:
            return ""

    def answer(question: str, document: str = "") -> dict:
        """The ``qa ask --json`` object for ``question``: from ``document`` alone when it is
        given (``document[start:end] == answer``), else from the default corpus. An unusable
        question or document gives an empty answer and an ``error``."""
        try:
            target = library.get(library.add(document_from_text(document, "document", MAX_DOCUMENT_CHARS))) if document else assistant
            return target.ask(check_question(question or "")).to_json()
        except ValueError as error:  # CorpusError is one
            return {"question": question, "answer": "", "confidence": 0.0, "doc_id": None, "start": None, "end": None, "evidence": "", "passages": [], "error": str(error)}

    with gr.Blocks(title="重庆“双链融合”文章问答") as app:
        key = gr.State(None)
        marks = gr.State([])
        gr.Markdown("## 重庆“双链融合”文章问答\n就文章内容提问（简体或繁体），答案直接摘自原文，并在全文中标出。也可以换成你自己的文章。")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="对话", height=480, elem_id="chat")
                box = gr.Textbox(label="你的问题", placeholder="例如：长安汽车新能源汽车年销量突破了多少？", elem_id="question", lines=1)
                with gr.Row():
                    send = gr.Button("提问", variant="primary", elem_id="send")
                    clear = gr.Button("清空对话")
                gr.Examples(EXAMPLES, inputs=box, label="示例问题")
                with gr.Accordion("换一篇文章（粘贴或上传）", open=False, elem_id="own-text"):
                    pasted = gr.Textbox(label="粘贴文本", lines=6, elem_id="paste")
                    upload = gr.File(label=f"或上传 .txt / .md 文件（UTF-8，最多 {MAX_DOCUMENT_CHARS:,} 字）", file_types=[".txt", ".md"], type="filepath", elem_id="upload")
                    with gr.Row():
                        use = gr.Button("使用这篇文章", variant="primary", elem_id="use-document")
                        back = gr.Button("回到默认文章", elem_id="use-default")
            with gr.Column(scale=2):
                status = gr.Markdown(document_status(assistant.retriever.documents, False), elem_id="doc-status")
                top_k = gr.Slider(1, 8, value=DEFAULT_K, step=1, label="检索段落数（top-k）")
                with gr.Tab("全文"):
                    article = gr.HTML(view(None, []), elem_id="doc-view")
                with gr.Tab("检索到的段落"):
                    passages = gr.HTML("提问后这里显示检索到的原文段落。", elem_id="passages")
        for event in (box.submit, send.click):
            event(respond, [box, chat, top_k, key, marks], [chat, box, passages, article, marks], api_visibility="private").then(
                None, None, None, js=SCROLL_TO_LATEST
            )
        clear.click(lambda k: ([], "", "", view(k, []), []), key, [chat, box, passages, article, marks], api_visibility="private")
        use.click(use_document, [pasted, upload, key, marks], [key, marks, status, article, chat, upload], api_visibility="private")
        back.click(use_default, None, [key, marks, status, article, chat], api_visibility="private")
        gr.api(ask, api_name="ask")
        gr.api(answer, api_name="answer")
    return app.queue(default_concurrency_limit=CONCURRENCY, max_size=64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--corpus", action="append", metavar="PATH", help="a .txt/.md file or folder (repeatable)")
    parser.add_argument("--precision", choices=PRECISIONS, help="reader precision (default: QA_PRECISION, else chosen for the CPU: qa info)")
    args = parser.parse_args()
    try:
        assistant = Assistant.from_corpus(args.corpus, precision=args.precision)
    except (CorpusError, MissingModelPackage) as exc:
        parser.exit(2, f"app.py: error: {exc}\n")
    assistant.ask(EXAMPLES[0])  # warm-up: the first user question is answered at full speed
    build_app(assistant).launch(server_name=args.host, server_port=args.port, show_error=False, footer_links=[], css=CSS, head=JUMP_SCRIPT)


if __name__ == "__main__":
    main()
