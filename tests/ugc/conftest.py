"""Small seeded environments shared by the UGC tests."""

from __future__ import annotations

import pytest

from labkit.ugc.envs import Environment, synthetic


@pytest.fixture(scope="session")
def small_env() -> Environment:
    return synthetic(30, 200, 8, seed=0)


@pytest.fixture(scope="session")
def paper_env() -> Environment:
    return synthetic(50, 500, 8, seed=0)
