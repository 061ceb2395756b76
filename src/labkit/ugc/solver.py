"""Pure Nash equilibrium of the C4 game by best response (arXiv:2410.23683).

Creator i's first-order condition under PPM is
    F_i(x) = sum_j a_ij B_ij / S_j^2 - c_i'(x_i) = alpha_i - x_i beta_i - c_i'(x_i) = 0,
with S_j = sum_k x_k a_kj, B_ij = S_j - x_i a_ij, alpha_i = sum_j a_ij / S_j and
beta_i = sum_j a_ij^2 / S_j^2; x_i = 0 when F_i(0) <= 0.

Three solvers, all best-response dynamics:
- ``aggregate`` (PPM default): the game is aggregative in the per-user totals S, so for fixed S each
  creator's condition is a scalar equation in x_i (closed form for quadratic costs). Iterating
  S -> sum_i x_i(S) a_ij with damping 1/2 (the symmetric Tullock mode has slope (2-n)/n) is a few
  matrix-vector products per iteration, vectorised over creators and users.
- ``gauss-seidel`` (PPM fallback): creators in turn solve their condition exactly by safeguarded
  Newton with a bisection bracket, S updated incrementally.
- ``generic`` (slate matching): Gauss-Seidel where each best response maximises the creator's payoff
  numerically (bounded Brent), for matchings without a closed-form condition.
A solve that does not converge raises SolverError rather than return a non-equilibrium.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from labkit.core.errors import LabkitError
from labkit.ugc.game import Game, column_chunks, cost, marginal_cost, marginal_cost_slope, traffic, weights

AGGREGATE_BUDGET = 400  # aggregate iterations before handing over to Gauss-Seidel (active-set changes)


class SolverError(LabkitError):
    """Best response did not reach an equilibrium within the iteration cap."""


@dataclass
class Equilibrium:
    x: np.ndarray  # (n,) production frequencies
    iterations: int
    method: str
    kkt_residual: float
    seconds: float


def symmetric_guess(n: int, m: int, c: float, p: float) -> float:
    """The beta = 0 symmetric equilibrium (m(n-1) / (n^2 c p))^{1/p}; for p = 2 it is sqrt(m(n-1)/(2c n^2))."""
    return float((m * (n - 1) / (n * n * c * p)) ** (1.0 / p)) if n > 1 else float((m / (4 * c * p)) ** (1 / p))


def condition_terms(x: np.ndarray, a: np.ndarray, a2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta): alpha_i = sum_j a_ij / S_j, beta_i = sum_j a_ij^2 / S_j^2 over served users."""
    total = x @ a
    inv = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
    alpha = a @ inv
    if a2 is not None:
        return alpha, a2 @ (inv * inv)
    beta = np.zeros(a.shape[0])
    for cols in column_chunks(*a.shape):
        beta += (a[:, cols] ** 2) @ (inv[cols] ** 2)
    return alpha, beta


def kkt_residual(x: np.ndarray, a: np.ndarray, c: np.ndarray, game: Game) -> float:
    """max_i |F_i| over active creators and max(0, F_i(0)) over inactive ones (PPM: analytic)."""
    if game.k != 1:
        return _numeric_kkt(x, a, c, game)
    alpha, beta = condition_terms(x, a)
    active = x > 0
    f = alpha - x * beta - marginal_cost(x, c, game.cost_power)
    res = np.where(active, np.abs(f), np.maximum(f, 0.0))
    return float(res.max()) if len(res) else 0.0


def solve_equilibrium(relevance: np.ndarray, costs: np.ndarray, beta: float | np.ndarray, game: Game, *,
                      x0: np.ndarray | None = None, tol: float = 1e-10, max_iter: int = 5000,
                      method: str = "auto") -> Equilibrium:
    """Equilibrium production x* for relevance (n, m), costs (n,) and beta (scalar or (m,))."""
    start = time.perf_counter()
    a = weights(relevance, beta)
    n, m = a.shape
    x = np.full(n, symmetric_guess(n, m, float(np.mean(costs)), game.cost_power)) if x0 is None \
        else np.where(np.asarray(x0, float) > 0, x0, 1e-3).astype(float)
    if method == "auto":
        method = "aggregate" if game.k == 1 else "generic"
    if method == "aggregate":
        x, iters, ok = _aggregate(x, a, costs, game.cost_power, tol, min(max_iter, AGGREGATE_BUDGET))
        if not ok:  # slow or oscillating: finish with Gauss-Seidel from where it stopped
            method = "aggregate+gauss-seidel"
            x, more, ok = _gauss_seidel_ppm(x, a, costs, game.cost_power, tol, max_iter)
            iters += more
    elif method == "gauss-seidel":
        x, iters, ok = _gauss_seidel_ppm(x, a, costs, game.cost_power, tol, max_iter)
    elif method == "generic":
        x, iters, ok = _gauss_seidel_generic(x, a, costs, game, max(tol, 1e-7), max_iter)
    else:
        raise LabkitError(f"unknown solver method {method!r} (aggregate, gauss-seidel, generic)")
    residual = kkt_residual(x, a, costs, game)
    if not ok:
        raise SolverError(f"best response did not converge in {iters} iterations (KKT residual {residual:.3g})")
    return Equilibrium(x, iters, method, residual, time.perf_counter() - start)


def _share_response(alpha: np.ndarray, beta: np.ndarray, c: np.ndarray, p: float) -> np.ndarray:
    """x solving alpha - beta x = c p x^{p-1} (clamped at 0), vectorised over creators."""
    if p == 2:
        return alpha / (beta + 2 * c)
    if p == 1:
        return np.maximum(alpha - c, 0.0) / np.maximum(beta, 1e-300)
    lo, hi = np.zeros_like(alpha), alpha / np.maximum(beta, 1e-300)
    hi = np.minimum(hi, (alpha / (c * p)) ** (1 / (p - 1)))  # c p x^{p-1} <= alpha at the root
    y = 0.5 * (lo + hi)
    for _ in range(200):
        h = alpha - beta * y - c * p * y ** (p - 1)
        slope = -beta - c * p * (p - 1) * np.maximum(y, 1e-300) ** (p - 2)
        lo, hi = np.where(h > 0, y, lo), np.where(h > 0, hi, y)
        newton = y - h / slope
        y_new = np.where((newton > lo) & (newton < hi), newton, 0.5 * (lo + hi))
        if np.all(np.abs(y_new - y) <= 1e-15 * np.maximum(1.0, y)):
            return y_new
        y = y_new
    return y


def _aggregate(x: np.ndarray, a: np.ndarray, c: np.ndarray, p: float, tol: float,
               max_iter: int) -> tuple[np.ndarray, int, bool]:
    a2 = a * a if a.nbytes <= (1 << 28) else None
    damping, worse, last = 0.5, 0, np.inf
    for it in range(1, max_iter + 1):
        alpha, beta = condition_terms(x, a, a2)
        target = _share_response(alpha, beta, c, p)
        step = float(np.abs(target - x).max())
        if step <= tol * max(1.0, float(x.max())):
            return target, it, True
        worse = worse + 1 if step > last else 0
        if worse >= 5:  # oscillation: damp harder
            damping, worse = max(damping / 2, 1e-3), 0
        last = step
        x = x + damping * (target - x)
    return x, max_iter, False


def _best_response_ppm(a: np.ndarray, others: np.ndarray, c: float, p: float, y: float) -> float:
    """Root of g(y) = sum_j a_j B_j / (a_j y + B_j)^2 = c'(y) by Newton inside a bisection bracket."""
    served = a > 0
    if not served.any():
        return 0.0
    a, others = a[served], others[served]
    if np.any(others <= 0):  # a user nobody else serves: any y > 0 takes it, so the marginal value at 0 is infinite
        at_zero = np.inf
    else:
        at_zero = float(np.sum(a / others))
    if at_zero <= (c if p == 1 else 0.0):
        return 0.0
    lo, hi = 0.0, float((len(a) / (4 * c * p)) ** (1 / p))  # g(y) <= m / (4y) bounds the root
    y = min(max(y, 1e-12 * hi), hi)
    for _ in range(100):
        d = a * y + others
        t = a * others / (d * d)
        h = float(t.sum()) - float(marginal_cost(np.array([y]), np.array([c]), p)[0])
        slope = -2.0 * float((t * a / d).sum()) - float(marginal_cost_slope(np.array([y]), np.array([c]), p)[0])
        if h > 0:
            lo = y
        else:
            hi = y
        new = y - h / slope if slope < 0 else 0.5 * (lo + hi)
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - y) <= 1e-15 * max(1.0, y) or hi - lo <= 1e-15 * max(1.0, hi):
            return new
        y = new
    return y


def _gauss_seidel_ppm(x: np.ndarray, a: np.ndarray, c: np.ndarray, p: float, tol: float,
                      max_iter: int) -> tuple[np.ndarray, int, bool]:
    x = x.copy()
    for sweep in range(1, max_iter + 1):
        total = x @ a  # recomputed each sweep so incremental updates do not drift
        moved = 0.0
        for i in range(len(x)):
            others = np.maximum(total - x[i] * a[i], 0.0)
            y = _best_response_ppm(a[i], others, float(c[i]), p, float(x[i]))
            total += (y - x[i]) * a[i]
            moved = max(moved, abs(y - x[i]))
            x[i] = y
        if moved <= tol * max(1.0, float(x.max())):
            return x, sweep, True
    return x, max_iter, False


def payoff_curve(i: int, ys: np.ndarray, x: np.ndarray, a: np.ndarray, c: np.ndarray, game: Game) -> np.ndarray:
    """u_i(y, x_{-i}) for every y in ys; the payoff-only view used by the generic solver and the checks."""
    ys = np.asarray(ys, float)
    if game.k == 1:  # PPM: traffic_i(y) = sum_j y a_ij / (y a_ij + B_ij), O(m) per y
        others = np.maximum(x @ a - x[i] * a[i], 0.0)
        w = ys[:, None] * a[i][None, :]
        total = w + others[None, :]
        gained = np.divide(w, total, out=np.zeros_like(w), where=total > 0).sum(axis=1)
    else:
        gained = np.empty(len(ys))
        z = x.copy()
        for k, y in enumerate(ys):
            z[i] = y
            gained[k] = traffic(z, a, game)[i]
    return gained - cost(ys, np.full(len(ys), c[i]), game.cost_power)


def maximise_payoff(i: int, x: np.ndarray, a: np.ndarray, c: np.ndarray, game: Game,
                    grid: int = 64) -> tuple[float, float]:
    """(argmax, max) of u_i over y >= 0 with the others fixed: a log-spaced grid, then bounded Brent."""
    from scipy.optimize import minimize_scalar

    hi = float((game.k * a.shape[1] / c[i]) ** (1 / game.cost_power))  # cost beyond any traffic
    ys = np.concatenate([[0.0], np.geomspace(hi * 1e-9, hi, grid), [x[i]]])
    vals = payoff_curve(i, ys, x, a, c, game)
    best = int(np.argmax(vals))
    order = np.sort(ys)
    pos = int(np.searchsorted(order, ys[best]))
    left, right = order[max(pos - 1, 0)], order[min(pos + 1, len(order) - 1)]
    if right <= left:
        return float(ys[best]), float(vals[best])
    res = minimize_scalar(lambda y: -payoff_curve(i, np.array([y]), x, a, c, game)[0], bounds=(left, right),
                          method="bounded", options={"xatol": 1e-13 * max(1.0, right)})
    if -res.fun >= vals[best]:
        return float(res.x), float(-res.fun)
    return float(ys[best]), float(vals[best])


def _gauss_seidel_generic(x: np.ndarray, a: np.ndarray, c: np.ndarray, game: Game, tol: float,
                          max_iter: int) -> tuple[np.ndarray, int, bool]:
    x = x.copy()
    for sweep in range(1, max_iter + 1):
        moved = 0.0
        for i in range(len(x)):
            y, _ = maximise_payoff(i, x, a, c, game)
            moved = max(moved, abs(y - x[i]))
            x[i] = y
        if moved <= tol * max(1.0, float(x.max())):
            return x, sweep, True
    return x, max_iter, False


def _numeric_kkt(x: np.ndarray, a: np.ndarray, c: np.ndarray, game: Game) -> float:
    """Central-difference first-order condition for matchings without an analytic one."""
    worst = 0.0
    for i in range(len(x)):
        h = 1e-6 * max(1.0, x[i])
        lo = max(x[i] - h, 0.0)
        vals = payoff_curve(i, np.array([lo, x[i] + h]), x, a, c, game)
        slope = (vals[1] - vals[0]) / (x[i] + h - lo)
        worst = max(worst, abs(slope) if x[i] > 0 else max(slope, 0.0))
    return worst
