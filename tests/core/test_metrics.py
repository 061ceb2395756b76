import math

import numpy as np
import pytest
from scipy import stats

from labkit.core.metrics import (
    bootstrap_ci,
    correlation_by_group,
    kendall_tau_b,
    pearson,
    rank,
    spearman,
)


def test_hand_worked_values() -> None:
    # x = 1..5, y = 2,1,4,3,5: Spearman = 1 - 6*sum(d^2)/(n(n^2-1)) = 1 - 6*4/120 = 0.8
    x, y = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    assert spearman(x, y) == pytest.approx(0.8)
    # pairs: 10, discordant: (1,2) and (3,4) -> tau = (8 - 2) / 10 = 0.6
    assert kendall_tau_b(x, y) == pytest.approx(0.6)
    assert pearson(x, y) == pytest.approx(0.8)
    assert list(rank([10, 20, 20, 5])) == [2.0, 3.5, 3.5, 1.0]


@pytest.mark.parametrize("seed", range(5))
def test_against_scipy_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, 60).astype(float)  # Likert-like, many ties
    y = x + rng.integers(-2, 3, 60)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y, variant="b").statistic, abs=1e-12)


def test_undefined_is_nan_not_zero() -> None:
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert math.isnan(kendall_tau_b([1], [2]))


def test_grouped_mean_skips_undefined_groups() -> None:
    x = [1, 2, 3, 1, 2, 3, 5, 5]
    y = [1, 2, 3, 3, 2, 1, 1, 2]
    g = ["a", "a", "a", "b", "b", "b", "c", "c"]
    res = correlation_by_group(spearman, x, y, g)
    assert res.value == pytest.approx(0.0)  # (1 + -1) / 2; group c is constant in x
    assert (res.groups_used, res.groups_total) == (2, 3)


def test_bootstrap_ci_brackets_and_reproduces() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = x + rng.normal(size=200)
    ci = bootstrap_ci(pearson, x, y, n_boot=300, seed=1)
    assert ci.low < ci.value < ci.high
    assert ci.value == pytest.approx(pearson(x, y))
    assert bootstrap_ci(pearson, x, y, n_boot=300, seed=1).low == ci.low
    # the true correlation is 1/sqrt(2); a 95% interval from 200 items should contain it
    assert ci.low < 1 / math.sqrt(2) < ci.high


def test_bootstrap_by_group() -> None:
    x = np.arange(30, dtype=float)
    y = x + np.tile([0.0, 1.0, -1.0], 10)
    groups = np.repeat(np.arange(10), 3)

    def stat(a, b, g):
        return correlation_by_group(spearman, a, b, g).value

    ci = bootstrap_ci(stat, x, y, groups=groups, n_boot=200)
    assert ci.value == pytest.approx(correlation_by_group(spearman, x, y, groups).value)
    assert ci.low <= ci.value <= ci.high


def test_an_undefined_estimate_prints_as_undefined() -> None:
    from labkit.core.metrics import Interval

    assert str(Interval(float("nan"), float("nan"), float("nan"))) == "undefined"
    assert str(Interval(0.25, 0.1, 0.4)) == "0.2500 [0.1000, 0.4000]"
