"""Checks and audits of equilibria: exploitability, trade-off monotonicity, limits.

Exploitability is computed independently of the solvers: each creator's payoff is maximised over
a log-spaced grid refined by bounded Brent, using payoffs only (no first-order condition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labkit.ugc.game import Game, creator_utilities, weights
from labkit.ugc.solver import maximise_payoff


def exploitability(relevance: np.ndarray, costs: np.ndarray, beta: float | np.ndarray, game: Game,
                   x: np.ndarray) -> float:
    """max_i [max_y u_i(y, x_{-i}) - u_i(x)]: the best gain of any unilateral deviation (>= 0)."""
    a = weights(relevance, beta, x)
    now = creator_utilities(x, a, costs, game)
    gains = [maximise_payoff(i, x, a, costs, game)[1] - now[i] for i in range(len(x))]
    return float(max(0.0, max(gains))) if gains else 0.0


@dataclass
class Monotonicity:
    """Per environment: does U strictly increase and V strictly decrease along the beta grid?"""

    u_increasing: list[bool]
    v_decreasing: list[bool]

    @property
    def holds(self) -> bool:
        return all(self.u_increasing) and all(self.v_decreasing)


def monotonicity(u: np.ndarray, v: np.ndarray) -> Monotonicity:
    """``u``, ``v``: (seeds, betas) arrays along an increasing beta grid."""
    return Monotonicity([bool(np.all(np.diff(row) > 0)) for row in u], [bool(np.all(np.diff(row) < 0)) for row in v])


def mean_and_interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over environments (axis 0) and the half-width of a normal 95% interval of the mean."""
    values = np.asarray(values, float)
    count = values.shape[0]
    half = 1.96 * values.std(axis=0, ddof=1) / np.sqrt(count) if count > 1 else np.zeros(values.shape[1:])
    return values.mean(axis=0), half


def relevance_statistics(relevance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each user's mean and standard deviation of relevance over creators (paper's per-user beta plot)."""
    return relevance.mean(axis=0), relevance.std(axis=0)
