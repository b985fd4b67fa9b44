"""Browser chat about the article: ``python app.py [--host H] [--port P] [--corpus PATH ...]``.

A thin Gradio UI on :class:`qa.Assistant`; it also exposes the API endpoint ``/ask``
(question in, answer text out, ``""`` when the article does not say).
"""

from __future__ import annotations

import argparse
import html
import logging
import os

import gradio as gr

from qa.assistant import ABSTAIN_MESSAGE, DEFAULT_K, Answer, Assistant, check_question
from qa.corpus import CorpusError
from qa.e5 import MissingModelPackage

EXAMPLES = [
    "长安汽车新能源汽车年销量突破了多少？",
    "重庆信息与智慧医学研究院由谁举办？",
    "璧山的生物制造中试平台投资了多少钱？",
    "“四链”指的是哪四条链？",
    "全市产业创新综合体一共有多少家？",
]
CONCURRENCY = 1  # torch already uses both cores for one question; parallel passes only contend
log = logging.getLogger("qa.app")


def highlighted_evidence(answer: Answer) -> str:
    """The evidence sentence as HTML with the answer span marked."""
    at = answer.start - answer.evidence_start
    before, span, after = answer.evidence[:at], answer.evidence[at : at + len(answer.answer)], answer.evidence[at + len(answer.answer) :]
    return f"{html.escape(before)}<mark>{html.escape(span)}</mark>{html.escape(after)}"


def passages_markdown(answer: Answer) -> str:
    if not answer.passages:
        return "（没有检索到段落）"
    return "\n\n".join(
        f"**{rank}.** `{h.doc_id}` 字符 {h.start}–{h.end}\n\n> {html.escape(h.text).replace(chr(10), ' ')}" for rank, h in enumerate(answer.passages, 1)
    )


def reply_markdown(answer: Answer) -> str:
    if answer.abstained:
        closest = "\n".join(f"- `{h.doc_id}` 字符 {h.start}–{h.end}：{html.escape(h.text[:60])}…" for h in answer.passages[:3])
        return f"{ABSTAIN_MESSAGE}。\n\n最接近的段落：\n{closest}"
    return (
        f"**{html.escape(answer.answer)}**\n\n"
        f"依据：{highlighted_evidence(answer)}\n\n"
        f"来源：`{answer.doc_id}` 字符 {answer.start}–{answer.end} · 置信度 {answer.confidence:.0%}"
    )


def build_app(assistant: Assistant) -> gr.Blocks:
    def respond(message: str, history: list, k: int):
        history = list(history or [])
        question = (message or "").strip()
        history.append({"role": "user", "content": question or "（空）"})
        passages = ""
        try:
            answer = assistant.ask(check_question(question), k=int(k))
            text, passages = reply_markdown(answer), passages_markdown(answer)
        except ValueError:
            text = "请输入一个问题（不超过 2000 个字）。" if question else "请输入一个问题。"
            if len(question) > 2000:
                text = f"问题太长了（{len(question)} 个字），请精简到 2000 字以内再问。"
        except Exception:  # noqa: BLE001 - the chat must never show a traceback
            log.exception("answering failed")
            text = "抱歉，回答这个问题时出错了，请换个问法再试。"
        history.append({"role": "assistant", "content": text})
        return history, "", passages

    def ask(question: str) -> str:
        """Answer text for ``question``; ``""`` when the article does not say or the question is unusable."""
        try:
            return assistant.ask(check_question(question or "")).answer
        except ValueError:
            return ""

    with gr.Blocks(title="重庆“双链融合”文章问答") as app:
        gr.Markdown("## 重庆“双链融合”文章问答\n就文章内容提问，答案直接摘自原文，并标出出处。")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="对话", height=480, elem_id="chat")
                box = gr.Textbox(label="你的问题", placeholder="例如：长安汽车新能源汽车年销量突破了多少？", elem_id="question", lines=1)
                with gr.Row():
                    send = gr.Button("提问", variant="primary", elem_id="send")
                    clear = gr.Button("清空对话")
                gr.Examples(EXAMPLES, inputs=box, label="示例问题")
            with gr.Column(scale=2):
                top_k = gr.Slider(1, 8, value=DEFAULT_K, step=1, label="检索段落数（top-k）")
                with gr.Accordion("检索到的段落", open=True):
                    passages = gr.Markdown("提问后这里显示检索到的原文段落。", elem_id="passages")
        for event in (box.submit, send.click):
            event(respond, [box, chat, top_k], [chat, box, passages], api_visibility="private")
        clear.click(lambda: ([], "", ""), None, [chat, box, passages], api_visibility="private")
        gr.api(ask, api_name="ask")
    return app.queue(default_concurrency_limit=CONCURRENCY, max_size=64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--corpus", action="append", metavar="PATH", help="a .txt/.md file or folder (repeatable)")
    args = parser.parse_args()
    try:
        assistant = Assistant(args.corpus)
    except (CorpusError, MissingModelPackage) as exc:
        parser.exit(2, f"app.py: error: {exc}\n")
    assistant.ask(EXAMPLES[0])  # warm-up: the first user question is answered at full speed
    build_app(assistant).launch(server_name=args.host, server_port=args.port, show_error=False, footer_links=[])


if __name__ == "__main__":
    main()
