"""Meta-evaluation: how well judge scores agree with human scores.

Dataset-level correlations, or summary-level ones (correlate within each group, e.g. SummEval's
``doc_id``, then average), each with a percentile-bootstrap CI (groups are resampled whole).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labkit.core.metrics import CORRELATIONS, Interval, bootstrap_ci, correlation_by_group

NAMES = ("pearson", "spearman", "kendall")


def correlate(human: Sequence[float], pred: Sequence[float], groups: Sequence[Any] | None = None,
              name: str = "spearman") -> float:
    fn = CORRELATIONS[name]
    return fn(human, pred) if groups is None else correlation_by_group(fn, human, pred, groups).value


def correlation_table(human: Sequence[float], pred: Sequence[float], groups: Sequence[Any] | None = None,
                      *, n_boot: int = 1000, seed: int = 0) -> dict[str, Interval]:
    """Pearson, Spearman and Kendall tau-b with 95% bootstrap CIs."""
    table = {}
    for name in NAMES:
        fn = CORRELATIONS[name]
        if groups is None:
            table[name] = bootstrap_ci(fn, human, pred, n_boot=n_boot, seed=seed)
        else:
            def grouped(h: Any, p: Any, g: Any, fn: Any = fn) -> float:
                return correlation_by_group(fn, h, p, g).value
            table[name] = bootstrap_ci(grouped, human, pred, n_boot=n_boot, seed=seed, groups=groups)
    return table


def paired_bootstrap(human: Sequence[float], a: Sequence[float], b: Sequence[float],
                     groups: Sequence[Any] | None = None, *, n_boot: int = 1000, seed: int = 0) -> Interval:
    """CI of Spearman(a) - Spearman(b) on the same resampled items (is a better than b?)."""
    import numpy as np

    if groups is None:
        def diff(h: Any, x: Any, y: Any) -> float:
            return correlate(h, x) - correlate(h, y)
        return bootstrap_ci(diff, human, a, b, n_boot=n_boot, seed=seed)

    def diff_grouped(h: Any, x: Any, y: Any, g: Any) -> float:
        return correlate(h, x, g) - correlate(h, y, g)
    return bootstrap_ci(diff_grouped, np.asarray(human), np.asarray(a), np.asarray(b), groups=groups,
                        n_boot=n_boot, seed=seed)
