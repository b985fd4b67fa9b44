"""The terminal: an answer as ``qa ask`` prints it, and ``qa chat``'s conversation loop."""

from __future__ import annotations

import json
import sys


def print_answer(answer) -> None:
    """An answer as ``qa ask`` prints it: answer, offsets, evidence and confidence, or the abstention and the closest passages."""
    if answer.understood_as:
        print(f"理解为：{answer.understood_as}")
    if answer.abstained:
        print(answer.message)
        print("最相关的段落：")
        for h in answer.passages:
            print(f"  [{h.doc_id} {h.start}-{h.end}] {h.text[:80]}…")
        return
    print(f"答案：{answer.answer}  (置信度 {answer.confidence:.2f})")
    print(f"出处：{answer.doc_id} 字符 {answer.start}-{answer.end}")
    if answer.kind == "span":
        print(f"依据：{answer.evidence}")


def chat(assistant, as_json: bool = False) -> None:
    """A conversation in the terminal, one question a line (typed, or piped in): each answer
    knows the earlier turns; ``:reset`` forgets them, ``:quit`` or end of input leaves.
    ``as_json``: each answer as one JSON line (the ``qa ask --json`` object)."""
    typed = sys.stdin.isatty()
    if typed:
        print("qa chat：输入问题（简体或繁体）；:reset 重新开始对话，:quit 或 Ctrl-D 退出")
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
        if line == ":reset":
            history = []
            print("（已重新开始对话）", file=sys.stderr if as_json else sys.stdout, flush=True)
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
