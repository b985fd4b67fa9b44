"""The Milvus store, through pymilvus's ``MilvusClient`` (the optional ``[milvus]`` extra).

One URI, one client API: a file path ending in ``.db`` is Milvus Lite, embedded (one process
per file: it holds a lock); ``http://host:19530`` is a Milvus server, a cluster, or
``milvus-lite server``, shared by many processes. Vectors, chunk texts with their offsets and
the keyword index (Milvus's BM25 function over a jieba analyzer in search mode, with the
project's stop words) all live in the engine, so a process keeps no index state of its own.
The collection's ``qa.meta`` property records the model and chunk settings; another's is refused.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import string
import time
from collections import Counter

import numpy as np

from qa.ingest.chunks import Chunk
from qa.ingest.corpus import Document
from qa.retrieval.stores.base import (
    StoredDocument,
    StoreError,
    StoreMeta,
    WritableStore,
    leads,
    stitch,
    text_sha256,
)
from qa.text.segment import STOPWORDS, tokenize

COLLECTION = "qa_chunks"
DIM = 384
MAX_ID = 1024  # characters of a doc_id
MAX_LEAD = 1024
PUNCTUATION = [*string.punctuation, *"，。？！、；：“”‘’（）《》〈〉【】「」『』〔〕—…·～｜", "……", "——"]  # Lite ignores removepunct
ANALYZER = {
    "tokenizer": {"type": "jieba", "mode": "search", "hmm": True},
    "filter": ["lowercase", "removepunct", {"type": "stop", "stop_words": sorted({*STOPWORDS, *PUNCTUATION})}],
}
FIELDS = ["doc_id", "start", "end", "text"]
PAGE = 1000  # rows per query page
FIND_ROWS = 64  # rows a like filter may give before the one that holds the text itself
# pymilvus pings every 10 s even without calls; a server (milvus-lite's among them) answers
# pings more often than every 5 minutes with GOAWAY too_many_pings, which fills the log: ping only
# during calls, and at most every 2 minutes
QUIET_KEEPALIVE = {"grpc.keepalive_time_ms": 120_000, "grpc.keepalive_permit_without_calls": 0}
META_WAIT = 10.0  # seconds a collection found without its meta is waited for (another replica is creating it)
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults, so that both stores rank alike


def _connect(uri: str, token: str | None):
    logging.getLogger("pymilvus").setLevel(logging.ERROR)  # Lite's query iterator warns of client-side timestamps
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise StoreError(f"{uri}: a Milvus store needs the milvus extra: pip install 'qa-chongqing[milvus]'") from exc
    if not uri.startswith(("http://", "https://", "tcp://")) and not os.path.isdir(os.path.dirname(os.path.abspath(uri))):
        raise StoreError(f"{uri}: its folder does not exist")
    try:
        return MilvusClient(uri=uri, token=token or "", timeout=10, grpc_options=QUIET_KEEPALIVE)
    except Exception as exc:  # noqa: BLE001 - pymilvus raises several kinds for one cause
        raise StoreError(f"{uri}: cannot open the Milvus store ({str(exc).splitlines()[0][:300]}). Is the server running, the URI right, the file not held by another process?") from exc


def _literal(value) -> str:
    """A string or list of strings as a Milvus filter literal (JSON quoting)."""
    return json.dumps(value, ensure_ascii=False)


class MilvusStore(WritableStore):
    """Chunks of ``meta``'s model in the collection ``collection`` at ``uri`` (created if missing)."""

    def __init__(self, uri: str, meta: StoreMeta, token: str | None = None, collection: str = COLLECTION):
        self.uri, self.meta, self.collection = uri, meta, collection
        self.token = token if token is not None else os.environ.get("QA_STORE_TOKEN")
        self.client = _connect(uri, self.token)
        try:
            self._open_or_create(meta)
            self.client.load_collection(collection)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"{uri}: the Milvus store failed to open ({str(exc).splitlines()[0][:300]})") from exc

    def _open_or_create(self, meta: StoreMeta) -> None:
        """Check the collection's ``qa.meta``, or create the collection. Replicas that start at
        once over an empty server race here: one creates the collection and then writes its
        meta, so another may find it without meta (it waits up to :data:`META_WAIT` seconds for
        it) or fail to create it (it tries again, and opens the one that won). An empty
        collection still without meta after the wait was left half-made by a creator that
        died: it is made again; one with rows is another's, and refused."""
        deadline = time.monotonic() + META_WAIT
        while True:
            if self.client.has_collection(self.collection):
                found = self.client.describe_collection(self.collection).get("properties", {}).get("qa.meta")
                if found is not None:
                    return self.meta.check(StoreMeta.from_json(found), f"{self.uri} (collection {self.collection!r})")
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                if self.client.get_collection_stats(self.collection).get("row_count", 0):
                    raise StoreError(f"{self.uri}: collection {self.collection!r} was not built by this project; choose another collection")
                self.client.drop_collection(self.collection)
            try:
                return self._create(meta)
            except Exception:  # noqa: BLE001 - another replica is creating it: look again
                if time.monotonic() > deadline + META_WAIT:
                    raise
                time.sleep(0.1 + 0.4 * random.random())

    def _create(self, meta: StoreMeta) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID * 4)
        schema.add_field("doc_sha", DataType.VARCHAR, max_length=64)
        schema.add_field("doc_chunks", DataType.INT64)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("lead", DataType.VARCHAR, max_length=MAX_LEAD * 4)
        schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params=ANALYZER)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
        index = self.client.prepare_index_params()
        index.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})
        self.client.create_collection(self.collection, schema=schema, index_params=index)
        self.client.alter_collection_properties(self.collection, {"qa.meta": meta.to_json()})

    def _call(self, method: str, *args, **kwargs):
        """``client.method(collection, …)``, loading the collection again where a restarted
        server has released it (Milvus keeps the data, not what was loaded), then once more."""
        try:
            return getattr(self.client, method)(self.collection, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - pymilvus's MilvusException
            if "released" not in str(exc) and "not loaded" not in str(exc):
                raise
            self.client.load_collection(self.collection)
            return getattr(self.client, method)(self.collection, *args, **kwargs)

    @property
    def shared(self) -> bool:
        """A server that every app process reaches (a Lite file belongs to one process)."""
        return self.uri.startswith(("http://", "https://", "tcp://"))

    def sibling(self, collection: str) -> "MilvusStore":
        """Another collection of the same Milvus, for the same model and chunking."""
        return MilvusStore(self.uri, self.meta, self.token, collection)

    # -- writing -------------------------------------------------------------------------
    def documents(self) -> dict[str, StoredDocument]:
        """Whole documents; one an interrupt left in part is listed with an empty hash, so a build redoes it."""
        counts: Counter = Counter()
        shas: dict[str, tuple[str, int]] = {}
        iterator = self.client.query_iterator(self.collection, batch_size=PAGE, filter="", output_fields=["doc_id", "doc_sha", "doc_chunks"])
        while page := iterator.next():
            for row in page:
                counts[row["doc_id"]] += 1
                shas[row["doc_id"]] = (row["doc_sha"], row["doc_chunks"])
        iterator.close()
        return {d: StoredDocument(d, sha if counts[d] == n else "", counts[d]) for d, (sha, n) in shas.items()}

    def add(self, entries: list[tuple[Document, list[Chunk], np.ndarray]]) -> None:
        rows = []
        for document, chunks, vectors in entries:
            if len(document.doc_id) > MAX_ID:
                raise StoreError(f"{document.doc_id[:80]}…: a document id is at most {MAX_ID} characters in a Milvus store")
            sha = text_sha256(document.text)
            rows += [
                {"id": c.chunk_id, "doc_id": c.doc_id, "doc_sha": sha, "doc_chunks": len(chunks), "start": c.start, "end": c.end, "lead": lead[:MAX_LEAD], "text": c.text, "dense": v.tolist()}
                for c, lead, v in zip(chunks, leads(document, chunks), np.asarray(vectors, dtype=np.float32))
            ]
        for at in range(0, len(rows), PAGE):
            self._call("upsert", rows[at : at + PAGE])

    def remove(self, doc_ids: list[str]) -> None:
        for at in range(0, len(doc_ids), PAGE):
            self._call("delete", filter=f"doc_id in {_literal(doc_ids[at : at + PAGE])}")

    def commit(self) -> None:
        self.client.flush(self.collection)

    def close(self) -> None:
        self.client.close()

    # -- searching -----------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._call("query", filter="", output_fields=["count(*)"])[0]["count(*)"])

    def _ranking(self, data, field: str, metric: str, depth: int):
        (hits,) = self._call("search", data=[data], anns_field=field, limit=depth, output_fields=FIELDS, search_params={"metric_type": metric})
        # Lite returns BM25 scores negated (its distances are smaller-is-better), a server as they are
        score = abs if metric == "BM25" else float
        return [(Chunk(h["id"], *(h["entity"][f] for f in FIELDS)), float(score(h["distance"]))) for h in hits]

    def dense(self, vector: np.ndarray, depth: int):
        return self._ranking(np.asarray(vector, dtype=np.float32).reshape(-1).tolist(), "dense", "IP", depth)

    def keyword(self, question: str, depth: int):
        return self._ranking(question, "sparse", "BM25", depth) if tokenize(question) else []

    def _rows(self, filter: str) -> list[tuple[Chunk, str]]:
        rows = self._call("query", filter=filter, output_fields=[*FIELDS, "lead"], limit=16384)
        return [(Chunk(r["id"], *(r[f] for f in FIELDS)), r["lead"]) for r in rows]

    def document_text(self, doc_id: str) -> str:
        rows = self._rows(f"doc_id == {_literal(doc_id)}")
        if not rows:
            raise KeyError(doc_id)
        return stitch(rows)

    def chunk_at(self, doc_id: str, offset: int) -> Chunk | None:
        rows = self._rows(f"doc_id == {_literal(doc_id)} and start <= {int(offset)} and end > {int(offset)}")
        return rows[0][0] if rows else None

    def find(self, text: str) -> tuple[str, int] | None:
        if not text:
            return None
        # % and _ cannot be escaped in a Milvus like (milvus-docs#2525): match the pieces between
        # them, then keep the rows that hold the text itself
        pattern = "%" + "%".join(p for p in re.split(r"[%_]", text) if p) + "%"
        rows = self._call("query", filter=f"text like {_literal(pattern)}", output_fields=[*FIELDS], limit=FIND_ROWS)
        rows = [r for r in rows if text in r["text"]]
        return (rows[0]["doc_id"], rows[0]["start"] + rows[0]["text"].find(text)) if rows else None
