"""Where chunks, vectors and keywords live, behind one :class:`~qa.retrieval.stores.base.Store` interface.

- :mod:`qa.retrieval.stores.memory`: FAISS + bm25s in this process (the default; a corpus of files, an upload);
- :mod:`qa.retrieval.stores.faiss_folder`: a FAISS archive kept in a folder (SQLite), built incrementally;
- :mod:`qa.retrieval.stores.milvus`: Milvus Lite (a ``.db`` file) or a Milvus server (``http://…``).

:func:`open_store` picks one from a URI (``--store``, ``QA_STORE``, ``Retriever(store=...)``).
"""

from __future__ import annotations

from pathlib import Path

from qa.retrieval.stores.base import StoreError, StoreMeta, WritableStore

SERVER_SCHEMES = ("http://", "https://", "tcp://")


def store_kind(uri: str) -> str:
    """``milvus`` for a server URI or a ``.db`` file (Milvus Lite), ``folder`` for any other path."""
    if not isinstance(uri, str) or not uri.strip():
        raise StoreError("the store URI is empty: give a folder (FAISS), a .db file (Milvus Lite) or http://host:19530 (Milvus)")
    uri = uri.strip()
    if "://" in uri and not uri.startswith(SERVER_SCHEMES):
        raise StoreError(f"{uri}: unknown scheme; a store is a folder (FAISS), a .db file (Milvus Lite) or http://host:19530 (Milvus)")
    return "milvus" if uri.startswith(SERVER_SCHEMES) or uri.endswith(".db") else "folder"


def open_store(uri: str, meta: StoreMeta, token: str | None = None) -> WritableStore:
    """The store at ``uri`` for vectors of ``meta``'s model (created if missing); ``StoreError``
    for a bad URI, an unreachable server, or a store built with another model or settings."""
    if store_kind(uri) == "milvus":
        from qa.retrieval.stores.milvus import MilvusStore

        return MilvusStore(uri.strip(), meta, token)
    from qa.retrieval.stores.faiss_folder import FolderStore

    return FolderStore(Path(uri.strip()), meta)
