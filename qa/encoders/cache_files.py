"""One scheme behind every disk cache (the e5 model folder, ONNX graphs, indexes, training
windows): a key that hashes what the entry was built from, with a format version, and writes
that are atomic, so an interrupted build is redone, never half-read."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CACHE_VARIABLE = "QA_CACHE"


def default_cache(env: dict[str, str] | None = None) -> Path:
    """The cache folder when none is given: ``$QA_CACHE``, else ``~/.cache/qa``."""
    env = os.environ if env is None else env
    return Path(env.get(CACHE_VARIABLE, "").strip() or Path.home() / ".cache" / "qa")


def cache_key(*parts: str | bytes | Path, length: int = 16) -> str:
    """Hex digest of ``parts`` in order: strings and bytes as given, paths by their content.
    Put a format version among the parts, so a change of format gives new keys."""
    digest = hashlib.sha256()
    for part in parts:
        data = Path(part).read_bytes() if isinstance(part, Path) else part.encode() if isinstance(part, str) else part
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:length]


def write_atomic(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` or what it held before, never a part (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def staged(target: Path):
    """Yield an empty staging folder beside ``target``; when the block ends without an error,
    it replaces ``target`` whole. A failed or interrupted build leaves ``target`` as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)
    try:
        yield staging
        shutil.rmtree(target, ignore_errors=True)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
