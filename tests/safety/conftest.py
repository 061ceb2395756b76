"""Agent-SafetyBench fixtures: the shared dev cases (skipped when absent) and the demo cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.core.paths import data_dir


@pytest.fixture(scope="session")
def shared_path() -> Path:
    path = data_dir() / "agent_safetybench" / "cases_dev.json"
    if not path.exists():
        pytest.skip(f"Agent-SafetyBench data not found at {path} (set LABKIT_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def shared(shared_path: Path):
    from labkit.safety.data import load_cases

    return load_cases(shared_path)


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory):
    from labkit.safety.data import load_cases
    from labkit.safety.demo import write_demo_data

    path = write_demo_data(tmp_path_factory.mktemp("safety-demo"))
    return load_cases(path)
