"""Question answering over a Chinese news article: corpus → chunks → index → retriever → reader → assistant.

Heavy libraries load lazily, and ``import qa`` is cheap and changes nothing in ``os.environ``
(the CLI and the app apply the thread settings: :func:`qa.settings.apply_threads`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.answer import Answer
    from qa.assistant import Assistant
    from qa.chunks import Chunk
    from qa.fusion import Hit
    from qa.retriever import Retriever

__all__ = ["Answer", "Assistant", "Chunk", "Hit", "Retriever"]
_HOMES = {"Answer": "qa.answer", "Assistant": "qa.assistant", "Chunk": "qa.chunks", "Hit": "qa.fusion", "Retriever": "qa.retriever"}


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
