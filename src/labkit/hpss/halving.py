"""Successive halving for prompt-strategy evaluation: judge a candidate on growing item prefixes and
stop it once it clearly trails the population (a racing rule).

At each checkpoint the candidate's Spearman on the items judged so far is compared with the
population's k-th best Spearman on the same items (paired: same items, same human scores). The
candidate stops when even an optimistic view of its partial value - ``z`` standard errors up, on
Fisher's z scale with Bonett & Wright's (2000) standard error for Spearman's rho,
sqrt((1 + rho^2 / 2) / (n - 3)) - is below that threshold. ``z = 0`` is plain successive halving.
scipy has no racing procedure for correlations, hence this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence


def optimistic(rho: float, n: int, z: float) -> float:
    """rho moved z standard errors up on Fisher's z scale (rho itself when n <= 3 or z = 0)."""
    if z == 0 or n <= 3 or math.isnan(rho):
        return rho
    r = max(min(rho, 0.999999), -0.999999)
    se = math.sqrt((1 + r * r / 2) / (n - 3))
    return math.tanh(math.atanh(r) + z * se)


def checkpoints(fractions: Sequence[float], n_items: int) -> list[int]:
    """Item counts at which the candidate is checked, then all items (at least 2 items each)."""
    counts = sorted({max(2, math.ceil(f * n_items)) for f in fractions if 0 < f < 1} | {n_items})
    return [c for c in counts if c <= n_items]


def race(judge: Callable[[list[int]], None], partial: Callable[[list[int]], float],
         threshold: Callable[[list[int]], float], order: Sequence[int], fractions: Sequence[float],
         z: float) -> list[int]:
    """Judge items in ``order`` up to each checkpoint; stop when the candidate trails. Returns the judged items.

    ``judge(new_items)`` rates items not rated yet; ``partial(items)`` is the candidate's Spearman on them;
    ``threshold(items)`` the population's k-th best on the same items.
    """
    done: list[int] = []
    counts = checkpoints(fractions, len(order))
    for count in counts:
        upto = [int(i) for i in order[:count]]
        judge([i for i in upto if i not in set(done)])
        done = upto
        if count < len(order) and optimistic(partial(done), len(done), z) < threshold(done):
            break
    return done
