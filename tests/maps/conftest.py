"""MAPS test data: the shipped synthetic circuits (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.core.paths import data_dir


@pytest.fixture(scope="session")
def maps_data() -> Path:
    root = data_dir() / "maps"
    if not (root / "synthetic_v11_pr1" / "sim_reference.jsonl").exists():
        pytest.skip(f"MAPS data not found under {root} (set LABKIT_DATA_DIR)")
    return root


@pytest.fixture(scope="session")
def sim_reference(maps_data: Path) -> list[dict]:
    with open(maps_data / "synthetic_v11_pr1" / "sim_reference.jsonl") as fh:
        return [json.loads(line) for line in fh if line.strip()]
