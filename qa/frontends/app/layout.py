"""The chat page: the conversation and its input on the left, the document (whole, with the
answers marked) and the retrieved passages on the right; events wired to :class:`Handlers`.
API endpoints: ``/ask`` and ``/answer``; the chat's own events are private."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from qa.frontends.app.handlers import Handlers
from qa.assistant import Assistant
from qa.ingest.corpus import BUNDLED_ARTICLE, SUFFIXES

EXAMPLES = [
    "长安汽车新能源汽车年销量突破了多少？",
    "重庆信息与智慧医学研究院由谁举办？",
    "璧山的生物制造中试平台投资了多少钱？",
    "長安汽車的新能源汽車年銷量突破了多少？",
    "全市产业创新综合体一共有多少家？",
]
CONCURRENCY = 1  # one question already uses both cores; parallel passes only contend
MODEL = "model"  # the queue of the events that ask: the chat and /ask (the reader itself is behind Handlers.model_lock)
INDEX = "index"  # the queue of the events that may index a new text (a new text, /answer): one at a time, never holding MODEL
ASK_BATCH = 8  # /ask questions waiting together are read in shared forward passes
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
#doc-view .doc-scroll p.heading { font-weight: 600; margin-top: 0.8em; }
#doc-view .page-image { margin: 0 0 8px; } #doc-view .page-image img { max-width: 100%; border: 1px solid #ddd; }
#doc-view .doc-scroll p.h1, #doc-view .doc-scroll p.h2 { font-size: 1.15em; }
#doc-view mark { background: #fde68a; } #doc-view mark.latest { background: #f59e0b; }
#doc-view mark.unsure { background: #bfdbfe; } #doc-view mark.latest.unsure { background: #60a5fa; }
.unsure-answer { color: #1d4ed8; } mark.unsure { background: #bfdbfe; }
[data-jump] { cursor: pointer; color: #2563eb; }
"""


def banner(readiness) -> str:
    """The page's notice while the replica is not ready (its store empty or unreachable)."""
    state = readiness() if readiness else None
    if state is None or state.ready:
        return ""
    return f"⚠️ **暂时无法回答**：{state.detail or state.reason}（资料库就绪后会自动恢复，无需重启）"


def build_app(assistant: Assistant, max_document_chars: int, library=None, readiness=None, model_lock=None) -> gr.Blocks:
    """The page for ``assistant`` (the default corpus), queued one model call at a time
    (:data:`MODEL`); ``library``: the assistants shared with the REST API; ``readiness``: the
    replica's (:meth:`qa.frontends.service.Service.readiness`), shown as a banner while not ready;
    ``model_lock``: the reader's, shared with the REST API."""
    handlers = Handlers(assistant, max_document_chars, library, model_lock)
    bundled = [Path(d.doc_id).name for d in assistant.retriever.documents] == [BUNDLED_ARTICLE.name]  # the page about the article
    title = "重庆“双链融合”文章问答" if bundled else "中文资料问答"
    intro = "就文章内容提问（简体或繁体），答案直接摘自原文，并在全文中标出。也可以换成你自己的文章。" if bundled else "就资料库中的文本提问（简体或繁体），答案直接摘自原文，并标出出处。也可以换成你自己的文本。"
    file_types = list(SUFFIXES)
    with gr.Blocks(title=title) as app:
        key = gr.State(None)
        marks = gr.State([])
        turns = gr.State([])  # the conversation's earlier turns (qa.conversation.follow_ups.Turn), for follow-up questions
        gr.Markdown(f"## {title}\n{intro}")
        notice = gr.Markdown(banner(readiness), elem_id="not-ready")
        if readiness is not None:
            gr.Timer(5).tick(lambda: banner(readiness), None, notice, api_visibility="private", queue=False)
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="对话", height=480, elem_id="chat")
                box = gr.Textbox(label="你的问题", placeholder="例如：长安汽车新能源汽车年销量突破了多少？" if bundled else "输入你的问题", elem_id="question", lines=1)
                with gr.Row():
                    send = gr.Button("提问", variant="primary", elem_id="send")
                    clear = gr.Button("清空对话")
                if bundled:  # examples the corpus can answer: the article's (none for another corpus)
                    gr.Examples(EXAMPLES, inputs=box, label="示例问题")
                thing = "文章" if bundled else "文本"  # the words fit what the page answers from
                with gr.Accordion(f"换一篇{thing}（粘贴或上传）", open=False, elem_id="own-text"):
                    pasted = gr.Textbox(label="粘贴文本", lines=6, elem_id="paste")
                    upload = gr.File(label=f"或上传 {' / '.join(SUFFIXES)} 文件（最多 {max_document_chars:,} 字）", file_types=file_types, type="filepath", elem_id="upload")
                    with gr.Row():
                        use = gr.Button(f"使用这篇{thing}", variant="primary", elem_id="use-document")
                        back = gr.Button("回到默认文章" if bundled else "回到默认资料库", elem_id="use-default")
            with gr.Column(scale=2):
                status = gr.Markdown(handlers.status(None), elem_id="doc-status")
                top_k = gr.Slider(1, 8, value=assistant.k, step=1, label="检索段落数（top-k）")
                show_guess = gr.Checkbox(False, label="没有答案时也显示最可能的猜测（标明不确定）", elem_id="show-guess")
                with gr.Tab("全文"):
                    article = gr.HTML(handlers.view(None, []), elem_id="doc-view")
                with gr.Tab("检索到的段落"):
                    passages = gr.HTML("提问后这里显示检索到的原文段落。", elem_id="passages")
        for event in (box.submit, send.click):
            event(handlers.respond, [box, chat, top_k, key, marks, turns, show_guess], [chat, box, passages, article, marks, turns], api_visibility="private", concurrency_id=MODEL).then(
                None, None, None, js=SCROLL_TO_LATEST
            )
        clear.click(handlers.clear, key, [chat, box, passages, article, marks, turns], api_visibility="private")
        use.click(handlers.use_document, [pasted, upload, key, marks], [key, marks, status, article, chat, upload, turns], api_visibility="private", concurrency_id=INDEX)
        back.click(handlers.use_default, None, [key, marks, status, article, chat, turns], api_visibility="private")
        gr.api(handlers.ask, api_name="ask", batch=True, max_batch_size=ASK_BATCH, concurrency_id=MODEL)
        gr.api(handlers.answer, api_name="answer", concurrency_id=INDEX)
    return app.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
