"""Where labkit keeps its cache, its runs and the benchmark data."""

from __future__ import annotations

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
