"""Metrics shared by several systems: correlations (dataset-level and grouped), bootstrap CIs, EM/F1.

Correlations are written out in numpy (ties get average ranks; Kendall's tau-b corrects for ties
in both variables) and checked against scipy in the tests. A correlation that is undefined
(fewer than two items, or a constant input) is NaN, never 0.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = Sequence[float] | np.ndarray


def _pair(x: Array, y: Array) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need two 1-d arrays of one length, got {a.shape} and {b.shape}")
    return a, b


def pearson(x: Array, y: Array) -> float:
    a, b = _pair(x, y)
    if len(a) < 2:
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def rank(x: Array) -> np.ndarray:
    """Ranks starting at 1; tied values share their average rank."""
    a = np.asarray(x, dtype=float)
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a))
    sorted_a = a[order]
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and sorted_a[j + 1] == sorted_a[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Array, y: Array) -> float:
    a, b = _pair(x, y)
    return pearson(rank(a), rank(b))


def kendall_tau_b(x: Array, y: Array) -> float:
    """tau_b = (C - D) / sqrt((n0 - n1)(n0 - n2)), counting pairs in O(n^2) row by row."""
    a, b = _pair(x, y)
    n = len(a)
    if n < 2:
        return float("nan")
    concordant_minus_discordant = 0.0
    tied_x = tied_y = 0
    for i in range(n - 1):
        dx = np.sign(a[i + 1:] - a[i])
        dy = np.sign(b[i + 1:] - b[i])
        concordant_minus_discordant += float((dx * dy).sum())
        tied_x += int((dx == 0).sum())
        tied_y += int((dy == 0).sum())
    n0 = n * (n - 1) / 2
    denom = np.sqrt((n0 - tied_x) * (n0 - tied_y))
    return float(concordant_minus_discordant / denom) if denom > 0 else float("nan")


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


# ---- EM / F1 (SQuAD-style normalisation) -------------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse whitespace."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def exact_match(prediction: str, references: str | Sequence[str]) -> float:
    refs = [references] if isinstance(references, str) else list(references)
    return float(any(normalize_answer(prediction) == normalize_answer(r) for r in refs))


def token_f1(prediction: str, references: str | Sequence[str]) -> float:
    """Best token-overlap F1 against any reference."""
    refs = [references] if isinstance(references, str) else list(references)
    pred = normalize_answer(prediction).split()
    best = 0.0
    for ref in refs:
        gold = normalize_answer(ref).split()
        if not pred or not gold:
            best = max(best, float(pred == gold))
            continue
        common = sum((Counter(pred) & Counter(gold)).values())
        if common:
            p, r = common / len(pred), common / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best
