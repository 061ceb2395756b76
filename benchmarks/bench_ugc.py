"""UGC equilibrium cost: labkit's vectorised best-response solver against a generic root finder.

1. Same environment, same tolerance: ``solve_equilibrium`` (aggregate best response, and the
   Gauss-Seidel best response) against ``scipy.optimize.root`` (hybr) on the full first-order system
   F(x) = 0, with a finite-difference Jacobian (what a generic call does) and with the analytic one.
   Every answer is checked: KKT residual and distance to labkit's solution.
2. Growth with n*m up to n=1,000 creators, m=100,000 users; each size runs in a fresh process so
   its peak resident memory is its own (column-chunked, so it stays under 4 GB).

    .venv/bin/python benchmarks/bench_ugc.py [--max-size 1000x100000] [--beta 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from labkit.ugc.envs import synthetic
from labkit.ugc.game import Game, marginal_cost, weights
from labkit.ugc.solver import condition_terms, kkt_residual, solve_equilibrium

TOL = 1e-10


def scipy_root(relevance: np.ndarray, costs: np.ndarray, beta: float, analytic: bool) -> tuple[np.ndarray, int]:
    """scipy.optimize.root on F_i(x) = alpha_i - x_i beta_i - c_i'(x_i) = 0 (all creators active)."""
    from scipy.optimize import root

    a = weights(relevance, beta)
    n, m = a.shape

    def f(x: np.ndarray) -> np.ndarray:
        alpha, b = condition_terms(np.abs(x), a)
        return alpha - x * b - marginal_cost(x, costs, 2.0)

    def jac(x: np.ndarray) -> np.ndarray:  # dF/dx, from the shares
        total = x @ a
        inv = 1.0 / total
        first = a * inv  # a_ij / S_j
        second = first * first  # a_ij^2 / S_j^2
        cross = -(first * inv) @ a.T + 2 * (x[:, None] * second * inv) @ a.T  # d/dx_k of alpha_i - x_i beta_i
        cross[np.diag_indices(n)] -= second.sum(axis=1)
        cross[np.diag_indices(n)] -= 2 * costs
        return cross

    x0 = np.full(n, np.sqrt(m * (n - 1) / (2 * costs.mean() * n * n)))
    sol = root(f, x0, jac=jac if analytic else None, method="hybr", tol=TOL)
    return sol.x, int(sol.nfev)


def compare(n: int, m: int, beta: float) -> None:
    env = synthetic(n, m, 8, seed=0)
    game = Game()
    rows = []
    for method in ("aggregate", "gauss-seidel"):
        start = time.perf_counter()
        eq = solve_equilibrium(env.relevance, env.costs, beta, game, tol=TOL, method=method)
        rows.append((f"labkit {method}", time.perf_counter() - start, eq.kkt_residual, 0.0, f"{eq.iterations} it"))
        if method == "aggregate":
            reference = eq.x
    a = weights(env.relevance, beta)
    for analytic in (False, True):
        start = time.perf_counter()
        x, nfev = scipy_root(env.relevance, env.costs, beta, analytic)
        seconds = time.perf_counter() - start
        rows.append((f"scipy root hybr, {'analytic' if analytic else 'finite-diff'} Jacobian", seconds,
                     kkt_residual(x, a, env.costs, game), float(np.abs(x - reference).max()), f"{nfev} F evals"))
    base = rows[0][1]
    print(f"\nn={n}, m={m}, beta={beta:g}, tolerance {TOL:g}")
    print(f"{'solver':44} {'seconds':>9} {'KKT residual':>13} {'max |x - x*|':>13} {'ratio':>8}")
    for name, seconds, residual, dist, note in rows:
        print(f"{name:44} {seconds:9.4f} {residual:13.2e} {dist:13.2e} {seconds / base:7.1f}x  {note}")


def one_size(n: int, m: int, beta: float) -> None:
    """Child process: solve one size, print JSON with time, iterations, residual and peak memory."""
    start = time.perf_counter()
    env = synthetic(n, m, 8, seed=0)
    built = time.perf_counter() - start
    eq = solve_equilibrium(env.relevance, env.costs, beta, Game(), tol=TOL)
    from labkit.ugc.solver import maximise_payoff

    a = weights(env.relevance, beta, eq.x)
    from labkit.ugc.game import creator_utilities

    now = creator_utilities(eq.x, a, env.costs, Game()) if n * m <= 10**7 else None
    sample = np.random.default_rng(0).choice(n, size=min(n, 10), replace=False)
    gains = []
    for i in sample:  # exploitability on sampled creators (the full check is O(n) such searches)
        best = maximise_payoff(int(i), eq.x, a, env.costs, Game())[1]
        mine = now[i] if now is not None else _own_payoff(int(i), eq.x, a, env.costs)
        gains.append(best - mine)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": n, "m": m, "build_s": built, "solve_s": eq.seconds, "iterations": eq.iterations,
                      "kkt": eq.kkt_residual, "sampled_exploitability": max(0.0, max(gains)), "peak_mib": peak_mib}))


def _own_payoff(i: int, x: np.ndarray, a: np.ndarray, c: np.ndarray) -> float:
    from labkit.ugc.solver import payoff_curve

    return float(payoff_curve(i, np.array([x[i]]), x, a, c, Game())[0])


def growth(max_n: int, max_m: int, beta: float) -> None:
    sizes = [(50, 500), (200, 5_000), (500, 20_000), (1_000, 50_000), (1_000, 100_000)]
    sizes = [(n, m) for n, m in sizes if n <= max_n and m <= max_m]
    print(f"\nGrowth with n*m (beta={beta:g}); each size in its own process")
    print(f"{'n':>6} {'m':>8} {'n*m':>12} {'build s':>8} {'solve s':>8} {'iters':>6} {'s per 1e6 nm':>13} "
          f"{'KKT':>9} {'exploit.(10)':>12} {'peak MiB':>9}")
    for n, m in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", f"{n}x{m}", "--beta", str(beta)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{n:6d} {m:8d} {n * m:12,d} {r['build_s']:8.2f} {r['solve_s']:8.2f} {r['iterations']:6d} "
              f"{r['solve_s'] / (n * m / 1e6):13.4f} {r['kkt']:9.1e} {r['sampled_exploitability']:12.1e} "
              f"{r['peak_mib']:9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beta", type=float, default=5.0)
    parser.add_argument("--max-size", default="1000x100000", help="largest n x m of the growth table")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        n, m = (int(v) for v in args.one.split("x"))
        one_size(n, m, args.beta)
        return
    for n, m in ((50, 500), (200, 5_000)):
        compare(n, m, args.beta)
    max_n, max_m = (int(v) for v in args.max_size.split("x"))
    growth(max_n, max_m, args.beta)


if __name__ == "__main__":
    main()
