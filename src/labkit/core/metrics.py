"""Metrics shared by several systems: correlations and bootstrap intervals.

Metrics shared by several systems: correlations (dataset-level and grouped), bootstrap CIs (EM/F1 live in
prag.eval, scored as the original PRAG code scores them).

Correlations are scipy.stats' (Pearson r, Spearman rho with average ranks for ties, Kendall's tau-b);
a correlation that is undefined (fewer than two items, or a constant input) is NaN, never 0. The
grouped correlation and the group bootstrap are ours: scipy.stats.bootstrap resamples items, not
whole groups (SummEval documents, CharacterBench characters).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

Array = Sequence[float] | np.ndarray


def _pair(x: Array, y: Array) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need two 1-d arrays of one length, got {a.shape} and {b.shape}")
    return a, b


def _defined(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) >= 2 and bool(np.ptp(a) > 0) and bool(np.ptp(b) > 0)


def _quiet(fn: Callable[..., Any], *args: Any, **kw: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(*args, **kw).statistic)


def pearson(x: Array, y: Array) -> float:
    """Pearson's r (NaN when undefined)."""
    a, b = _pair(x, y)
    return _quiet(stats.pearsonr, a, b) if _defined(a, b) else float("nan")


def rank(x: Array) -> np.ndarray:
    """Ranks starting at 1; tied values share their average rank (scipy.stats.rankdata)."""
    return stats.rankdata(np.asarray(x, dtype=float), method="average")


def spearman(x: Array, y: Array) -> float:
    """Spearman's rho with average ranks for ties (NaN when undefined)."""
    a, b = _pair(x, y)
    return _quiet(stats.spearmanr, a, b) if _defined(a, b) else float("nan")


def kendall_tau_b(x: Array, y: Array) -> float:
    """Kendall's tau-b (NaN when undefined)."""
    a, b = _pair(x, y)
    return _quiet(stats.kendalltau, a, b, variant="b") if _defined(a, b) else float("nan")


CORRELATIONS: dict[str, Callable[[Array, Array], float]] = {
    "pearson": pearson, "spearman": spearman, "kendall": kendall_tau_b}


@dataclass
class Grouped:
    """Mean of a per-group correlation over the groups where it is defined."""

    value: float
    groups_used: int
    groups_total: int


def correlation_by_group(fn: Callable[[Array, Array], float], x: Array, y: Array,
                         groups: Sequence[Any]) -> Grouped:
    """Correlate within each group (e.g. SummEval's doc_id) and average the defined ones."""
    a, b = _pair(x, y)
    if len(groups) != len(a):
        raise ValueError("one group label per item")
    index: dict[Any, list[int]] = {}
    for i, g in enumerate(groups):
        index.setdefault(g, []).append(i)
    values = [fn(a[ix], b[ix]) for ix in index.values()]
    defined = [v for v in values if not np.isnan(v)]
    return Grouped(float(np.mean(defined)) if defined else float("nan"), len(defined), len(values))


@dataclass
class Interval:
    """A point estimate with a percentile-bootstrap confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        if self.value != self.value:  # NaN: e.g. a correlation of constant ratings
            return "undefined"
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}]"


def bootstrap_ci(stat: Callable[..., float], *arrays: Array, n_boot: int = 1000,
                 alpha: float = 0.05, seed: int = 0, groups: Sequence[Any] | None = None) -> Interval:
    """Percentile bootstrap of ``stat(*arrays)``; resamples whole groups when ``groups`` is given.

    ``stat`` receives the resampled arrays (and, with groups, the resampled group labels made
    unique per draw as a last argument). Draws where ``stat`` is NaN are left out of the interval.
    """
    cols = [np.asarray(a) for a in arrays]
    rng = np.random.default_rng(seed)
    if groups is None:
        value = stat(*cols)
        n = len(cols[0])
        draws = [stat(*(c[ix] for c in cols)) for ix in (rng.integers(0, n, n) for _ in range(n_boot))]
    else:
        labels = np.asarray(groups)
        value = stat(*cols, labels)
        uniq = list(dict.fromkeys(labels.tolist()))
        members = {g: np.flatnonzero(labels == g) for g in uniq}
        draws = []
        for _ in range(n_boot):
            pick = rng.integers(0, len(uniq), len(uniq))
            ix = np.concatenate([members[uniq[p]] for p in pick])
            new_labels = np.concatenate([np.full(len(members[uniq[p]]), k) for k, p in enumerate(pick)])
            draws.append(stat(*(c[ix] for c in cols), new_labels))
    finite = np.asarray([d for d in draws if not np.isnan(d)])
    if len(finite) == 0:
        return Interval(float(value), float("nan"), float("nan"))
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return Interval(float(value), float(low), float(high))
