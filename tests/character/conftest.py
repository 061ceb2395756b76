"""CharacterBench fixtures: the shared files (skipped when absent) and the demo set labkit writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.core.paths import data_dir


@pytest.fixture(scope="session")
def cb_dir() -> Path:
    folder = data_dir() / "characterbench"
    if not (folder / "human_likeness_test.json").exists():
        pytest.skip(f"CharacterBench data not found under {folder} (set LABKIT_DATA_DIR)")
    return folder


@pytest.fixture(scope="session")
def cb_zh(cb_dir: Path):
    from labkit.character.data import load_all

    samples, problems = load_all(cb_dir, ("zh",))
    assert problems == []
    return samples


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from labkit.character.demo import write_demo_data

    return write_demo_data(tmp_path_factory.mktemp("character-demo"))
