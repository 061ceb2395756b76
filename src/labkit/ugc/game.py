"""The C4 game: matching, traffic, costs and utilities (arXiv:2410.23683, Sec. 3).

Shapes: ``relevance`` sigma is (n creators, m users); ``x`` is (n,); ``beta`` is a scalar or (m,)
(one exploration strength per user). Matching weights are computed in log space with the
per-user maximum subtracted, so e^{beta sigma} never overflows (the shift cancels in every share).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labkit.core.errors import ConfigError

EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True)
class Game:
    """The pluggable pieces: matching rule, slate size, cost family c_i x^p, user utility."""

    matching: str = "ppm"
    slate_k: int = 1
    cost_power: float = 2.0
    utility: str = "relevance"

    def __post_init__(self) -> None:
        if self.matching not in ("ppm", "slate"):
            raise ConfigError(f"game.matching must be ppm or slate, got {self.matching!r}")
        if self.matching == "slate" and self.slate_k not in (1, 2):
            raise ConfigError("game.slate_k must be 1 or 2 (inclusion probabilities of sampling K > 2 "
                              "without replacement have no closed form here)")
        if self.cost_power < 1:
            raise ConfigError(f"game.cost_power must be >= 1 (convex cost), got {self.cost_power}")
        if self.utility not in ("relevance", "gumbel"):
            raise ConfigError(f"game.utility must be relevance or gumbel, got {self.utility!r}")

    @property
    def k(self) -> int:
        return self.slate_k if self.matching == "slate" else 1

    @property
    def smooth_ppm(self) -> bool:
        """PPM with expected relevance: the case with the fast solver and implicit gradients."""
        return self.k == 1 and self.utility == "relevance"


def weights(relevance: np.ndarray, beta: float | np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
    """a_ij = exp(beta_j (sigma_ij - max_k sigma_kj)), in [0, 1]; (n, m).

    With ``x`` the maximum runs over active creators (x_k > 0) only, so a user whose favourite
    produces nothing is not lost to underflow at very large beta.
    """
    beta = np.asarray(beta, dtype=float)
    pool = relevance if x is None or not np.any(x > 0) else relevance[np.asarray(x) > 0]
    logits = relevance - pool.max(axis=0, keepdims=True)  # the one (n, m) allocation; the rest is in place
    logits *= beta
    # an inactive creator above the active maximum gets e^{<=300}: finite, and it only matters for deviations
    np.minimum(logits, 300.0, out=logits)
    return np.exp(logits, out=logits)


def cost(x: np.ndarray, c: np.ndarray, p: float) -> np.ndarray:
    return c * np.power(x, p)


def marginal_cost(x: np.ndarray, c: np.ndarray, p: float) -> np.ndarray:
    """c_i'(x) = c p x^{p-1} (c at x = 0 when p = 1)."""
    return c * p * np.power(x, p - 1) if p != 1 else c * np.ones_like(x)


def marginal_cost_slope(x: np.ndarray, c: np.ndarray, p: float) -> np.ndarray:
    """c_i''(x) = c p (p-1) x^{p-2}."""
    if p == 1:
        return np.zeros_like(x)
    if p == 2:
        return 2 * c * np.ones_like(x)
    return c * p * (p - 1) * np.power(np.maximum(x, 1e-300), p - 2)


def shares(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """PPM probabilities P_ij = x_i a_ij / sum_k x_k a_kj; (n, m). A user nobody serves gets zeros."""
    w = x[:, None] * a
    total = w.sum(axis=0, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def pair_inclusion(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Pr(i in a 2-slate drawn without replacement with weights w = x a); (n, m).

    Pr = p_i + sum_{k != i} p_k w_i / (S - w_k): i first, or k first and then i.
    """
    w = x[:, None] * a
    total = w.sum(axis=0, keepdims=True)
    p = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    rest = total - w  # S - w_k, (n, m)
    ratio = np.divide(p, rest, out=np.zeros_like(p), where=rest > 0)  # p_k / (S - w_k)
    second = w * (ratio.sum(axis=0, keepdims=True) - ratio)
    return p + second


def inclusion(x: np.ndarray, a: np.ndarray, game: Game) -> np.ndarray:
    """Probability that user j is shown creator i (sums to K over i for every served user)."""
    if game.k == 1:
        return shares(x, a)
    return pair_inclusion(x, a)


def traffic(x: np.ndarray, a: np.ndarray, game: Game) -> np.ndarray:
    """Expected impressions of each creator, sum_j Pr(i shown to j); (n,)."""
    return inclusion(x, a, game).sum(axis=1)


def creator_utilities(x: np.ndarray, a: np.ndarray, c: np.ndarray, game: Game) -> np.ndarray:
    """u_i = traffic_i - c_i x_i^p; (n,)."""
    return traffic(x, a, game) - cost(x, c, game.cost_power)


def user_utilities(x: np.ndarray, a: np.ndarray, relevance: np.ndarray, game: Game) -> np.ndarray:
    """pi_j; (m,). relevance: mean relevance of the slate; gumbel: E[max_{k in slate} sigma_kj + eps]."""
    if game.utility == "relevance":
        return (inclusion(x, a, game) * relevance).sum(axis=0) / game.k
    if game.k == 1:  # one item shown: E[sigma + eps] = sigma + Euler's gamma
        return (shares(x, a) * relevance).sum(axis=0) + EULER_GAMMA
    return _gumbel_pair_utility(x, a, relevance)


def _gumbel_pair_utility(x: np.ndarray, a: np.ndarray, relevance: np.ndarray) -> np.ndarray:
    """sum over ordered pairs (k, l) of Pr(k then l) * log(e^{sigma_k} + e^{sigma_l}) + gamma."""
    w = x[:, None] * a
    total = w.sum(axis=0)
    out = np.empty(w.shape[1])
    for j in range(w.shape[1]):  # (n, n) per user
        wj, sj = w[:, j], relevance[:, j]
        first = wj / total[j]
        rest = total[j] - wj
        second = np.divide(wj[None, :], rest[:, None], out=np.zeros((len(wj), len(wj))), where=rest[:, None] > 0)
        np.fill_diagonal(second, 0.0)
        pair = first[:, None] * second
        out[j] = (pair * np.logaddexp(sj[:, None], sj[None, :])).sum()
    return out + EULER_GAMMA


def column_chunks(n: int, m: int, budget: int = 1 << 27) -> list[slice]:
    """User-column slices whose (n, chunk) float64 temporaries stay under ``budget`` bytes."""
    step = max(1, budget // (8 * max(n, 1)))
    return [slice(s, min(s + step, m)) for s in range(0, m, step)]


def ppm_user_utilities(x: np.ndarray, a: np.ndarray, relevance: np.ndarray) -> np.ndarray:
    """PPM expected relevance pi_j = sum_i x_i a_ij sigma_ij / S_j without (n, m) temporaries."""
    n, m = a.shape
    out = np.empty(m)
    for cols in column_chunks(n, m):
        ac = a[:, cols]
        total = x @ ac
        served = np.divide(x @ (ac * relevance[:, cols]), total, out=np.zeros_like(total), where=total > 0)
        out[cols] = served
    return out


def totals(x: np.ndarray, a: np.ndarray, relevance: np.ndarray, game: Game) -> tuple[float, float]:
    """(U, V): user satisfaction sum_j pi_j and content volume sum_i x_i."""
    if game.smooth_ppm:
        return float(ppm_user_utilities(x, a, relevance).sum()), float(x.sum())
    return float(user_utilities(x, a, relevance, game).sum()), float(x.sum())
