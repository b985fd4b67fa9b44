"""Process-wide settings: cache location, offline mode, thread count."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Root of the project cache: ``$QA_CACHE`` or ``~/.cache/qa``."""
    return Path(os.environ.get("QA_CACHE") or Path.home() / ".cache" / "qa")


def set_offline() -> None:
    """Forbid any model-hub access: every model comes from a package or this repo."""
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[flag] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def quiet_transformers() -> None:
    """Silence transformers' load reports and weight-loading progress bars."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
