"""The budget of uploaded texts kept in a shared Milvus: each upload's collection records when
it was last used (a collection property, so every replica agrees), and past the budget the
least recently used are dropped. A dropped text is indexed again when someone brings it back."""

from __future__ import annotations

import logging
import time

PREFIX = "qa_upload_"
USED = "qa.used"  # the collection property holding the time of its last use (seconds since the epoch)
log = logging.getLogger("qa.retrieval.uploads")


def touch(store) -> None:
    """Record that the upload collection ``store`` (a :class:`~qa.retrieval.stores.milvus.MilvusStore`) was used now."""
    store.client.alter_collection_properties(store.collection, {USED: f"{time.time():.3f}"})


def last_used(client, collection: str) -> float:
    found = client.describe_collection(collection).get("properties", {}).get(USED)
    return float(found) if found else 0.0


def prune(store, keep: int) -> list[str]:
    """Drop the least recently used upload collections of ``store``'s Milvus beyond ``keep``;
    the names dropped. Another replica may drop one at once: that is no error."""
    client = store.client
    uploads = sorted((c for c in client.list_collections() if c.startswith(PREFIX)), key=lambda c: last_used(client, c))
    dropped = uploads[: max(0, len(uploads) - keep)]
    for name in dropped:
        try:
            client.drop_collection(name)
        except Exception:  # noqa: BLE001 - dropped by another replica first
            log.debug("%s was dropped already", name)
    if dropped:
        log.info("dropped %d upload collection(s) past the budget of %d: %s", len(dropped), keep, ", ".join(dropped))
    return dropped
