"""Shared fixtures. The response cache and runs go to a temporary folder; converted model
weights are shared with the user's cache so the GGUF is converted at most once per machine."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# fuzzing profiles (tests/fuzzing.py): a few dozen mutations per loader in CI, many more on demand
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REAL_CACHE = Path(os.environ.get("LABKIT_CACHE") or Path.home() / ".cache" / "labkit")


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labkit-cache")
    (REAL_CACHE / "models").mkdir(parents=True, exist_ok=True)
    (root / "models").symlink_to(REAL_CACHE / "models")
    os.environ["LABKIT_CACHE"] = str(root)
    os.environ["LABKIT_RUNS"] = str(tmp_path_factory.mktemp("runs"))
    os.environ.pop("LABKIT_NO_CACHE", None)
    os.environ.pop("LABKIT_RAY_ADDRESS", None)
    return root


@pytest.fixture(scope="session")
def smollm2():
    """The real embedded model, loaded once per test session, without the response cache."""
    from labkit.core.models import load_model

    return load_model("smollm2", cache=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
