"""The terminal: an answer as ``qa ask`` prints it, and ``qa chat``'s conversation loop."""

from __future__ import annotations

import json
import sys

from qa.answering.abstention import UNSURE_LABEL, UNSURE_NOTE


def print_guess(answer, file=None) -> None:
    """The best answer an abstention withheld, marked as unsure (or that there was none)."""
    g = answer.guess
    if g is None:
        print("（没有可猜的答案）", file=file)
        return
    print(f"最可能的答案，但不确定：{g.answer}  (置信度 {g.confidence:.2f}; 出处 {g.doc_id} 字符 {g.start}-{g.end})", file=file)


def print_answer(answer, show_guess: bool = False) -> None:
    """An answer as ``qa ask`` prints it: answer (an unsure one marked 不确定), offsets,
    evidence, confidence and the answer steps that changed it, or the abstention, why, its withheld guess (``show_guess``) and the
    closest passages."""
    if answer.understood_as:
        print(f"理解为：{answer.understood_as}")
    if answer.abstained:
        print(answer.message)
        if show_guess:
            print_guess(answer)
        print("最相关的段落：")
        for h in answer.passages:
            print(f"  [{h.doc_id} {h.start}-{h.end}] {h.text[:80]}…")
        return
    if answer.unsure:
        print(f"答案（不确定）：{UNSURE_LABEL} {answer.answer}  (置信度 {answer.confidence:.2f}；{UNSURE_NOTE})")
    else:
        print(f"答案：{answer.answer}  (置信度 {answer.confidence:.2f})")
    page = f" 第 {answer.page} 页" if answer.page else ""
    print(f"出处：{answer.doc_id}{page} 字符 {answer.start}-{answer.end}")
    if answer.kind == "span":
        print(f"依据：{answer.evidence}")
    if answer.rules:
        print(f"规则：{' → '.join(answer.rules)}")


def chat(assistant, as_json: bool = False) -> None:
    """A conversation in the terminal, one question a line (typed, or piped in): each answer
    knows the earlier turns; ``:guess`` shows the best answer an abstention withheld, ``:reset``
    forgets the turns, ``:quit`` or end of input leaves.
    ``as_json``: each answer as one JSON line (the ``qa ask --json`` object)."""
    typed = sys.stdin.isatty()
    if typed:
        print("qa chat：输入问题（简体或繁体）；:guess 显示没把握时的最佳猜测，:reset 重新开始对话，:quit 或 Ctrl-D 退出")
    history: list = []
    while True:
        try:
            line = input("问> " if typed else "").strip()
        except EOFError:
            break
        if not line:
            continue
        if line == ":quit":
            break
        notes = sys.stderr if as_json else sys.stdout  # JSON lines carry the guess already
        if line == ":guess":
            if history and history[-1].abstained:
                print_guess(history[-1], file=notes)
            else:
                print("（上一个问题已经回答了，没有要猜的）", file=notes, flush=True)
            continue
        if line == ":reset":
            history = []
            print("（已重新开始对话）", file=notes, flush=True)
            continue
        if not typed and not as_json:
            print(f"问：{line}")
        try:
            answer = assistant.ask(line, history=history)
        except ValueError as error:
            print(f"qa: {error}", file=sys.stderr, flush=True)
            continue
        history.append(answer)
        if as_json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            print_answer(answer)
            print(flush=True)
