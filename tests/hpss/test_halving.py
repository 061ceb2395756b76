"""The racing rule behind successive halving."""

import math

import pytest

from labkit.hpss.halving import checkpoints, optimistic, race


def test_optimistic_is_fisher_z_with_bonett_wright_se() -> None:
    rho, n, z = 0.4, 28, 1.0
    se = math.sqrt((1 + 0.16 / 2) / 25)  # hand: sqrt(1.08 / 25) = 0.20785
    assert optimistic(rho, n, z) == pytest.approx(math.tanh(math.atanh(0.4) + se), abs=1e-12)
    assert optimistic(rho, n, z) == pytest.approx(0.5591, abs=1e-4)  # tanh(0.42365 + 0.20785)
    assert optimistic(rho, n, 0.0) == rho and optimistic(0.4, 3, 2.0) == 0.4
    assert optimistic(0.4, 1000, 0.15) < optimistic(0.4, 50, 0.15)  # the margin shrinks with more items


def test_checkpoints() -> None:
    assert checkpoints([0.125, 0.25, 0.5], 100) == [13, 25, 50, 100]
    assert checkpoints([0.01, 0.5], 10) == [2, 5, 10]
    assert checkpoints([], 7) == [7]


def test_race_stops_a_trailing_candidate_and_keeps_a_close_one() -> None:
    judged: list[int] = []
    order = list(range(100))

    def run(partial_value: float, z: float) -> list[int]:
        judged.clear()
        return race(judged.extend, lambda items: partial_value, lambda items: 0.5, order, [0.125, 0.25, 0.5], z)

    assert run(0.1, 0.15) == order[:13] and judged == order[:13]  # far below: stopped at the first checkpoint
    assert run(0.49, 0.15) == order  # within the margin: judged on every item
    assert len(run(0.49, 0.0)) == 13  # no margin: stopped
    assert run(0.9, 0.0) == order and judged == order  # every item judged once
