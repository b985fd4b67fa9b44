"""The answering service of one replica: its assistants, loaded in the background while the
server already answers its probes, and whether it is ready.

A replica is ready when the models are loaded and its corpus, or its store, is reachable and
holds documents. Over a store that is missing, empty or down it starts anyway and says why it
is not ready (``/readyz``, the log, the page's banner); it loads again until it can, and a
store that later holds documents makes it ready without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from qa.settings import Settings

RETRY_AFTER = 5  # seconds a client over a limit, or a replica not ready, tells its callers to wait
RETRY_SECONDS = 3.0  # how often a replica that could not load tries again
CHECK_SECONDS = 2.0  # how long a store check is trusted before the store is asked again
log = logging.getLogger("qa.service")

REASONS = {
    "loading": "the models are loading",
    "store_unreachable": "the store cannot be reached",
    "store_empty": "the store holds no documents",
    "failed": "the assistant could not be built",
}


@dataclass(frozen=True)
class Readiness:
    """Whether a replica answers, and if not, why (a key of :data:`REASONS`) and what to do."""

    ready: bool
    reason: str = ""
    detail: str = ""

    def to_json(self) -> dict:
        return {"ready": self.ready, "reason": self.reason or None, "detail": self.detail or None}


class Service:
    """The assistants of one replica for ``settings`` over ``corpus`` (files) or the settings'
    store, built by :meth:`start` in a background thread; model calls hold :attr:`model_lock`."""

    def __init__(self, settings: Settings, corpus: list[str] | None = None, on_fatal=None):
        """``on_fatal(exc)``: what to do when loading can never succeed (the model package is
        missing, a corpus file is bad); without it, the replica stays not ready."""
        self.settings = settings
        self.corpus = corpus
        self.on_fatal = on_fatal
        self.library = None  # qa.frontends.assistants.DocumentAssistants, once loaded
        self.model_lock = threading.Lock()
        self.loaded = threading.Event()
        self._state = Readiness(False, "loading", REASONS["loading"])
        self._checked = 0.0
        self._told_empty = False

    @property
    def store_uri(self) -> str | None:
        return None if self.corpus else self.settings.store

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._load_until_loaded, name="qa-load", daemon=True)
        thread.start()
        return thread

    def _load_until_loaded(self) -> None:
        from qa.encoders.e5 import MissingModelPackage
        from qa.ingest.corpus import CorpusError
        from qa.retrieval.stores.base import StoreError

        while not self.loaded.is_set():
            try:
                self.load()
            except (MissingModelPackage, CorpusError) as exc:  # no retry mends these
                self._state = Readiness(False, "failed", str(exc))
                log.error("cannot load: %s", exc)
                if self.on_fatal is not None:
                    self.on_fatal(exc)
                return
            except Exception as exc:  # noqa: BLE001 - a store down or a bad build: say why, try again
                reason = "store_unreachable" if isinstance(exc, StoreError) else "failed"
                self._state = Readiness(False, reason, str(exc).splitlines()[0][:500])
                log.warning("not ready (%s): %s; trying again in %.0f s", reason, self._state.detail, RETRY_SECONDS)
                time.sleep(RETRY_SECONDS)

    def load(self) -> None:
        """Build the assistants (models, corpus or store; the retriever loads jieba's dictionary
        in the background) and answer one question to warm them up, so that the first user's
        question pays for none of it."""
        from qa.assistant import Assistant
        from qa.frontends.assistants import DocumentAssistants

        assistant = Assistant.from_corpus(self.corpus, settings=self.settings)
        library = DocumentAssistants(assistant)
        self.library = library
        self.loaded.set()
        if self.readiness().ready:
            with self.model_lock:
                assistant.ask("长安汽车新能源汽车年销量突破了多少？")

    def store_failed(self, detail: str) -> None:
        """A call found the store down: not ready from now until a check finds it back."""
        self._state = Readiness(False, "store_unreachable", f"{self.store_uri}: {detail}")
        self._checked = time.monotonic()

    def readiness(self) -> Readiness:
        """Ready, loading, or the store unreachable or empty (checked at most every :data:`CHECK_SECONDS`)."""
        if not self.loaded.is_set():
            return self._state
        if self.store_uri is None:
            return Readiness(True)
        if time.monotonic() - self._checked < CHECK_SECONDS:
            return self._state
        try:
            held = len(self.library.default.retriever.store)
            self._state = Readiness(True) if held else Readiness(False, "store_empty", f"{self.store_uri} holds no documents: build it with qa index --corpus FOLDER --store {self.store_uri}")
        except Exception as exc:  # noqa: BLE001 - pymilvus raises several kinds for one cause
            self._state = Readiness(False, "store_unreachable", f"{self.store_uri}: {str(exc).splitlines()[0][:300]}")
        self._checked = time.monotonic()
        if self._state.reason == "store_empty" and not self._told_empty:
            log.warning("not ready: %s", self._state.detail)
            self._told_empty = True
        return self._state
