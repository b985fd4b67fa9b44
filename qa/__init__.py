"""Question answering over Chinese text, in packages that follow the data path: text → ingest →
encoders → retrieval → reading → answering → conversation → the assistant → frontends
(with evaluation and training beside).

Heavy libraries load lazily, and ``import qa`` is cheap and changes nothing in ``os.environ``
(the CLI and the app apply the thread settings: :func:`qa.settings.apply_threads`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.ingest.chunks import Chunk
    from qa.retrieval.retriever import Retriever
    from qa.types import Answer, Hit

__all__ = ["Answer", "Assistant", "Chunk", "Hit", "Retriever"]
_HOMES = {"Answer": "qa.types", "Assistant": "qa.assistant", "Chunk": "qa.ingest.chunks", "Hit": "qa.types", "Retriever": "qa.retrieval.retriever"}


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
