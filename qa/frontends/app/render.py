"""The chat's HTML and Markdown: an answer with its highlighted evidence, the retrieved
passages, and whole documents with every answer of the chat marked in place."""

from __future__ import annotations

import html
import re
from pathlib import Path

from qa.answering.abstention import UNSURE_LABEL, UNSURE_NOTE
from qa.types import Answer
from qa.ingest.corpus import Document

HEADING = re.compile(r"^(#{1,6})[ \t]+", re.MULTILINE)  # a Markdown heading's marker, at a line's start
GUESS_LABEL = "最可能的答案，但不确定"
MAX_NAMED = 3  # a corpus of more texts is named by its count
KEYWORDS_ONLY_NOTE = "这篇文章的语义索引还在建立，这个回答只依据关键词检索；建好后会自动加入。"


def highlighted_evidence(answer: Answer) -> str:
    """The evidence sentence as HTML with the answer span marked (in the unsure colour for an unsure answer)."""
    at = answer.start - answer.evidence_start
    before, span, after = answer.evidence[:at], answer.evidence[at : at + len(answer.answer)], answer.evidence[at + len(answer.answer) :]
    tag = '<mark class="unsure" title="不确定">' if answer.unsure else "<mark>"
    return f"{html.escape(before)}{tag}{html.escape(span)}</mark>{html.escape(after)}"


def anchor(doc_index: int, offset: int) -> str:
    return f"at-{doc_index}-{offset}"


def passages_html(answer: Answer, documents: list[Document]) -> str:
    if not answer.passages:
        return "（没有检索到段落）"
    index = {d.doc_id: i for i, d in enumerate(documents)}
    place = lambda h: f"{html.escape(h.doc_id)} 字符 {h.start}–{h.end}"  # noqa: E731
    return "".join(
        f"<p><b>{rank}.</b> "
        + (f'<a data-jump="{anchor(index[h.doc_id], h.start)}" href="#">{place(h)}</a>' if h.doc_id in index else place(h))
        + f"<br>{html.escape(h.text).replace(chr(10), ' ')}</p>"
        for rank, h in enumerate(answer.passages, 1)
    )


def reply_markdown(answer: Answer, documents: list[Document], show_guess: bool = False) -> str:
    """The chat's reply: the answer in bold (an ``unsure`` one marked 【不确定】可能是, with a hint
    to check it; a sentence answer is its own evidence), where it stands, the confidence; how a
    follow-up question was understood; or the abstention, why, the withheld best guess marked
    as unsure (``show_guess``) and the closest passages."""
    index = {d.doc_id: i for i, d in enumerate(documents)}
    understood = f"<small>理解为：{html.escape(answer.understood_as)}</small>\n\n" if answer.understood_as else ""
    if answer.keywords_only:
        understood += f"<small>{KEYWORDS_ONLY_NOTE}</small>\n\n"
    if answer.abstained:
        closest = "\n".join(f"- `{h.doc_id}` 字符 {h.start}–{h.end}：{html.escape(h.text[:60])}…" for h in answer.passages[:3])
        guess = ""
        if show_guess and answer.guess:
            g = answer.guess
            guess = f"{GUESS_LABEL}（置信度 {g.confidence:.0%}）：**{html.escape(g.answer)}**，见 `{g.doc_id}` 字符 {g.start}–{g.end}\n\n"
        return f"{understood}{html.escape(answer.message)}。\n\n{guess}最接近的段落：\n{closest}"
    jump = f' · <a data-jump="{anchor(index[answer.doc_id], answer.start)}" href="#">在全文中查看</a>' if answer.doc_id in index else ""
    evidence = "" if answer.kind == "sentence" else f"依据：{highlighted_evidence(answer)}\n\n"
    shown = f"**{html.escape(answer.answer)}**"
    if answer.unsure:  # in words as well as colour
        shown = f'<span class="unsure-answer">【不确定】{UNSURE_LABEL} {shown}</span>\n\n<small>{UNSURE_NOTE}</small>'
    return (
        f"{understood}{shown}\n\n"
        f"{evidence}"
        f"来源：`{answer.doc_id}`{f' 第 {answer.page} 页' if answer.page else ''} 字符 {answer.start}–{answer.end} · 置信度 {answer.confidence:.0%}{jump}"
    )


def headings(text: str) -> dict[int, tuple[int, int]]:
    """Markdown headings (``## 深度融合``): the offset where each heading line starts, its level and
    the length of its ``## `` marker, which the view leaves out."""
    return {m.start(): (len(m.group(1)), m.end() - m.start()) for m in HEADING.finditer(text)}


def document_html(documents: list[Document], marks: list[tuple], anchors: dict[str, set[int]]) -> str:
    """Every document, paragraphs as in the source and Markdown headings as headings, answers
    ``marks`` (doc_id, start, end[, grade]) highlighted (the last one as ``latest``, an
    ``unsure`` one in its own colour), and an empty anchor at each offset in ``anchors``."""
    if not documents:
        return '<div class="doc-scroll"><p>提问后，这里显示回答所在的文本，答案在文中标出。</p></div>'
    parts = ['<div class="doc-scroll">']
    latest = tuple(marks[-1][:3]) if marks else None
    unsure = {tuple(m[:3]) for m in marks if tuple(m[3:]) == ("unsure",)}
    for d, doc in enumerate(documents):
        ends = {s: e for s, e in sorted({(m[1], m[2]) for m in marks if m[0] == doc.doc_id})}
        points = set(anchors.get(doc.doc_id, ())) | set(ends)
        if len(documents) > 1:
            parts.append(f"<h4>{html.escape(doc.doc_id)}</h4>")
        heads = headings(doc.text)
        hidden = {i for s, (_, n) in heads.items() for i in range(s, s + n)}

        def opening(at: int) -> str:
            return f'<p class="heading h{heads[at][0]}">' if at in heads else "<p>"

        parts.append(opening(0))
        tag, until = "", -1  # the open <mark> tag and where it closes
        for i, ch in enumerate(doc.text):
            if i == until and tag:
                parts.append("</mark>")
                tag = ""
            if i in points:
                parts.append(f'<span id="{anchor(d, i)}"></span>')
            if i in ends and not tag:
                classes = " ".join(c for c, on in (("latest", latest == (doc.doc_id, i, ends[i])), ("unsure", (doc.doc_id, i, ends[i]) in unsure)) if on)
                tag = (f'<mark class="{classes}"' + (' title="不确定"' if "unsure" in classes else "") + ">") if classes else "<mark>"
                until = ends[i]
                parts.append(tag)
            if ch == "\n":  # a paragraph break closes the mark and reopens it after (unless it ends there)
                if tag and i + 1 == until:
                    tag = ""
                    parts.append("</mark>")
                parts.append(f"{'</mark>' if tag else ''}</p>{opening(i + 1)}{tag}")
            elif i not in hidden:
                parts.append(html.escape(ch))
        parts.append(("</mark>" if tag else "") + "</p>")
    parts.append("</div>")
    return "".join(parts).replace("<p></p>", "")


def store_label(uri: str) -> str:
    """A store as the page names it: a file's or folder's name, never a path on the server's
    disk or a server's address."""
    if "://" in uri:
        return "共享资料库"
    return Path(uri.rstrip("/\\")).name or "资料库"


def document_status(documents: list[Document], uploaded: bool, indexing: bool = False) -> str:
    """The line naming the session's corpus: its texts by file name (a few) or by count."""
    chars = sum(len(d.text) for d in documents)
    if len(documents) > MAX_NAMED:
        status = f"当前资料库：**{len(documents):,} 篇文本**（{chars:,} 字）。"
    else:
        names = "、".join(Path(d.doc_id).name for d in documents)
        status = f"当前文章：**{html.escape(names)}**（{chars:,} 字）" + ("，问答只针对这篇文章。" if uploaded else "（默认文章）。")
    return status + ("语义索引建立中，现在先按关键词检索。" if indexing else "")
