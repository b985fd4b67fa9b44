"""Runtime settings, resolved once: defaults, then the environment, then explicit flags.

:func:`resolve` builds one frozen :class:`Settings`; the CLI and the app resolve it at start
and pass it down (``Assistant.from_corpus(settings=...)``). An :class:`~qa.assistant.Assistant`
given none takes :func:`defaults` (the environment over the defaults, read once per process)
and keeps it; the stages below it are given their values and read no settings themselves.
``Settings.sources`` says where each value came from (``qa info`` prints it).

Nothing here writes ``os.environ`` on import: :func:`apply_threads` sets the OpenMP variables,
and only the CLI and the app call it, before the first model loads.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from qa.encoders.cache_files import default_cache
from qa.encoders.cpu import PRECISIONS, plan, usable_cores

# tunables: the defaults of the settings below, which the stages take when built alone
TOP_N = 5  # spans the reader keeps per question
SETTLED_GAP = 2.0  # a best span ahead of the next by more than this is not read again (docs/models.md, "Reading twice")
FUSION_LEAD = 0.3  # a ranking whose first hit leads by this much keeps it first in the fusion (None: plain RRF)
NO_PASSAGE_BELOW = 0.5  # no passage holds this share of the question's content (by characters): abstain with no_passage
KEPT_UPLOADS = 200  # uploaded texts a shared Milvus keeps, the least recently used dropped beyond (docs/deploy.md sizes it)
SENTENCE_ANSWER_CHARS = 150  # longest sentence answer (narrowed to the clauses around the span); evaluation scores why/how answers within it

ENVIRONMENT = {  # setting -> the variable that sets it
    "cache": "QA_CACHE",
    "precision": "QA_PRECISION",
    "threads": "QA_THREADS",
    "k": "QA_K",
    "decisive": "QA_DECISIVE",
    "reread": "QA_REREAD",
    "store": "QA_STORE",
    "kept_uploads": "QA_KEPT_UPLOADS",
}


@dataclass(frozen=True)
class Settings:
    """What a process runs with. ``decisive`` ``None``: read all ``k`` chunks together."""

    cache: Path
    precision: str
    threads: int
    k: int = 3  # chunks read per question
    decisive: float | None = 0.6  # early stop, on the calibration of qa/weights/calibration.json (README, "Reading fewer tokens")
    reread: bool = True  # read the top spans again in their sentences (README, "Reading twice")
    max_question_chars: int = 2000
    max_document_chars: int = 200_000  # a pasted or uploaded text
    store: str | None = None  # an archive to answer from: a folder (FAISS), a .db file (Milvus Lite), http://host:19530 (qa.retrieval.stores)
    top_n: int = TOP_N
    settled_gap: float = SETTLED_GAP
    fusion_lead: float | None = FUSION_LEAD
    no_passage_below: float = NO_PASSAGE_BELOW
    sentence_answer_chars: int = SENTENCE_ANSWER_CHARS
    kept_uploads: int = KEPT_UPLOADS
    sources: dict[str, str] = field(default_factory=dict, compare=False)  # setting -> "default", "$VAR" or "flag"

    def __post_init__(self):
        for name in ("k", "threads", "top_n", "max_question_chars", "max_document_chars", "sentence_answer_chars", "kept_uploads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a whole number >= 1, not {getattr(self, name)!r}")

    def lines(self) -> list[str]:
        """``name = value (source)``, one line per setting."""
        return [f"{f.name} = {getattr(self, f.name)} ({self.sources.get(f.name, 'default')})" for f in fields(self) if f.name != "sources"]


def _parse(name: str, text: str):
    """A setting's value from its environment variable's text; ``ValueError`` names both."""
    variable = ENVIRONMENT[name]
    try:
        if name == "cache":
            return Path(text)
        if name == "store":
            return text
        if name == "precision":
            if text.lower() not in PRECISIONS:
                raise ValueError
            return text.lower()
        if name in ("threads", "k", "kept_uploads"):
            value = int(text)
            if value < 1:
                raise ValueError
            return value
        if name == "decisive":
            return None if text.lower() in ("none", "off", "0") else float(text)
        if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise ValueError
        return text.lower() in ("1", "true", "yes")
    except ValueError:
        choices = {"precision": f"one of {', '.join(PRECISIONS)}", "reread": "1 or 0", "decisive": "a confidence or 'off'", "cache": "a folder"}
        raise ValueError(f"{variable} must be {choices.get(name, 'a whole number >= 1')}, not {text!r}") from None


def resolve(env: dict[str, str] | None = None, cpuinfo: str | None = None, **flags) -> Settings:
    """Defaults, overridden by the environment ``env`` (default: ``os.environ``), overridden by
    ``flags`` whose value is not ``None``. Precision defaults to :func:`qa.encoders.cpu.plan`'s choice
    for this CPU, threads to the cores this process may use."""
    env = os.environ if env is None else env
    chosen = plan(env, cpuinfo)
    values = {"cache": default_cache({}), "precision": chosen.precision, "threads": usable_cores()}
    sources = {"precision": f"default: {chosen.reason}"} if chosen.reason != "QA_PRECISION" else {"precision": "$QA_PRECISION"}
    for name, variable in ENVIRONMENT.items():
        if env.get(variable, "").strip():
            values[name] = _parse(name, env[variable].strip())
            sources[name] = f"${variable}"
    unknown = set(flags) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    for name, value in flags.items():
        if value is not None:
            values[name] = Path(value) if name == "cache" else value
            sources[name] = "flag"
    if values["precision"] not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {values['precision']!r}")
    return Settings(**values, sources=sources)


@functools.cache
def defaults() -> Settings:
    """The settings of a library user who passes none: the environment over the defaults, read once."""
    return resolve()


def with_flags(settings: Settings, **flags) -> Settings:
    """``settings`` with the flags that are not ``None`` in force (their source: ``flag``)."""
    given = {name: value for name, value in flags.items() if value is not None}
    return replace(settings, **given, sources={**settings.sources, **dict.fromkeys(given, "flag")})


def apply_threads(settings: Settings) -> None:
    """Before torch loads (the CLI and the app call this; ``import qa`` does not): OpenMP
    threads spin briefly (``GOMP_SPINCOUNT`` 10,000, some microseconds, enough to catch the next
    op) and then sleep (``OMP_WAIT_POLICY=PASSIVE``), so a busy neighbour gets the core back;
    ``settings.threads`` of them. Values already in the environment are kept.

    Measured on a 2-core Xeon (AVX-512, no AMX), one answer / one fp32 384-token window, idle
    and beside a busy loop: spinning (ACTIVE) 124 / 608 ms and 214 / 700 ms; PASSIVE alone
    2 threads 246-512 ms (a wake-up per op); this 154 / 276 ms and 228 / 410 ms."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.threads))
