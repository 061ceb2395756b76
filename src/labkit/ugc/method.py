"""UGC workflows: equilibrium, beta sweep, bilevel optimisation of beta, U-V frontier.

Each ``*_run`` reads top to bottom: build the environment, solve, check, record, summarise. The
numerics live in game.py (matching, utilities), solver.py (best response), gradient.py (implicit
gradient) and eval.py (exploitability, audits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import ConfigError, LabkitError
from labkit.core.files import atomic_write
from labkit.core.runs import Run, run_items
from labkit.ugc.config import UgcConfig
from labkit.ugc.envs import Environment, make_environment
from labkit.ugc.eval import exploitability
from labkit.ugc.game import Game, totals, user_utilities, weights
from labkit.ugc.gradient import welfare_gradient
from labkit.ugc.solver import Equilibrium, solve_equilibrium


def make_game(cfg: UgcConfig) -> Game:
    return Game(cfg.game.matching, cfg.game.slate_k, cfg.game.cost_power, cfg.game.utility)


@dataclass
class Solved:
    """An equilibrium with its checks and totals."""

    beta: float | np.ndarray
    eq: Equilibrium
    u: float
    v: float
    exploitability: float | None = None
    pi: np.ndarray | None = None

    def summary(self) -> dict[str, Any]:
        beta = self.beta if np.ndim(self.beta) == 0 else float(np.mean(self.beta))
        return {"beta": float(beta), "U": self.u, "V": self.v, "active": int((self.eq.x > 0).sum()),
                "iterations": self.eq.iterations, "method": self.eq.method,
                "kkt_residual": self.eq.kkt_residual, "exploitability": self.exploitability,
                "seconds": round(self.eq.seconds, 4)}


def solve(env: Environment, beta: float | np.ndarray, game: Game, cfg: UgcConfig, *,
          x0: np.ndarray | None = None, check: bool = True, keep_pi: bool = False) -> Solved:
    """Solve, verify (exploitability by independent best-response search) and total up."""
    eq = solve_equilibrium(env.relevance, env.costs, beta, game, x0=x0, tol=cfg.solver.tol,
                           max_iter=cfg.solver.max_iter)
    gain = exploitability(env.relevance, env.costs, beta, game, eq.x) if check else None
    if gain is not None and gain > cfg.solver.max_exploitability:
        raise LabkitError(f"solver returned a non-equilibrium: a creator gains {gain:.3g} by deviating "
                          f"(allowed {cfg.solver.max_exploitability:g}); KKT residual {eq.kkt_residual:.3g}")
    a = weights(env.relevance, beta, eq.x)
    u, v = totals(eq.x, a, env.relevance, game)
    pi = user_utilities(eq.x, a, env.relevance, game) if keep_pi else None
    return Solved(beta, eq, u, v, gain, pi)


# ---------------------------------------------------------------- sweep


def sweep_environment(cfg: UgcConfig, seed: int, keep_arrays: bool) -> list[dict[str, Any]]:
    """Every beta of the grid on one environment, warm-starting each solve from the previous one."""
    env = make_environment(cfg.env, seed=seed)
    game = make_game(cfg)
    rows, x0 = [], None
    for beta in sorted(cfg.betas):
        out = solve(env, beta, game, cfg, x0=x0, keep_pi=keep_arrays)
        x0 = out.eq.x
        row = out.summary()
        if keep_arrays:
            row |= {"x": out.eq.x.tolist(), "pi": out.pi.tolist() if out.pi is not None else None}
        rows.append(row)
    return rows


def sweep_seeds(cfg: UgcConfig) -> list[int]:
    return [cfg.env.seed + s for s in range(cfg.seeds)]


def sweep_run(cfg: UgcConfig, run: Run) -> dict[int, list[dict[str, Any]]]:
    """U(beta), V(beta) on ``cfg.seeds`` environments through the shared parallel map (resumable)."""
    if len(set(cfg.betas)) < 2:
        raise ConfigError("betas: a sweep needs at least two distinct values")
    seeds = sweep_seeds(cfg)
    first = seeds[0]
    done = run_items(run, [(f"seed-{s}", s) for s in seeds],
                     lambda s: sweep_environment(cfg, s, keep_arrays=s == first),
                     workers=cfg.workers, desc="environments", max_error_rate=0.0,
                     kinds=dict.fromkeys(("beta", "U", "V"), (int, float)), each=True)
    return {s: done[f"seed-{s}"]["value"] for s in seeds}


def sweep_arrays(results: dict[int, list[dict[str, Any]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(betas, U, V) with U, V of shape (seeds, betas)."""
    rows = list(results.values())
    betas = np.array([r["beta"] for r in rows[0]])
    return betas, np.array([[r["U"] for r in row] for row in rows]), np.array([[r["V"] for r in row] for row in rows])


# ---------------------------------------------------------------- bilevel optimisation


@dataclass
class Ascent:
    """Projected gradient ascent trace."""

    beta: float | np.ndarray
    outcome: Solved
    history: list[dict[str, float]] = field(default_factory=list)


def welfare_of(out: Solved, lam: float) -> float:
    return out.u + lam * out.v


def grid_search(env: Environment, game: Game, cfg: UgcConfig, betas: list[float], lam: float,
                check: bool = False) -> tuple[list[Solved], Solved]:
    """Global beta on a grid (warm-started); returns all outcomes and the best by W."""
    outs, x0 = [], None
    for beta in sorted(betas):
        out = solve(env, float(beta), game, cfg, x0=x0, check=check)
        x0 = out.eq.x
        outs.append(out)
    return outs, max(outs, key=lambda o: welfare_of(o, lam))


def ascend(env: Environment, game: Game, cfg: UgcConfig, start: float | np.ndarray, *, per_user: bool,
           lam: float, steps: int, on_step: Callable[[int, Solved, float], None] | None = None) -> Ascent:
    """Projected gradient ascent on W = U + lam V over beta in [beta_min, beta_max] (per user or global).

    Each step moves by ``alpha * g / max|g|`` (at most alpha per coordinate), halving alpha until W
    increases and growing it by 1.5 after a success; each inner solve is warm-started.
    """
    lo, hi = cfg.optim.beta_min, cfg.optim.beta_max
    beta: float | np.ndarray = np.clip(np.full(env.m, float(np.mean(start))) if per_user and np.ndim(start) == 0
                                       else start, lo, hi)
    out = solve(env, beta, game, cfg, check=False)
    value, alpha = welfare_of(out, lam), cfg.optim.step_size
    history = [{"iteration": 0, "W": value, "U": out.u, "V": out.v, "alpha": alpha}]
    if on_step:
        on_step(0, out, alpha)
    for it in range(1, steps + 1):
        grad = welfare_gradient(env.relevance, env.costs, beta, out.eq.x, lam, game, per_user=per_user,
                                method=cfg.optim.gradient)
        grad = grad if per_user else grad[0]
        scale = float(np.max(np.abs(grad)))
        if scale == 0:
            break
        improved = False
        while alpha > 1e-9:
            cand = np.clip(beta + alpha * grad / scale, lo, hi)
            if np.allclose(cand, beta, rtol=0, atol=1e-12):
                break  # projected gradient vanishes: a KKT point of the box-constrained problem
            trial = solve(env, cand if per_user else float(cand), game, cfg, x0=out.eq.x, check=False)
            if welfare_of(trial, lam) > value:
                beta, out, value = (cand if per_user else float(cand)), trial, welfare_of(trial, lam)
                alpha, improved = min(alpha * 1.5, hi - lo), True
                break
            alpha /= 2
        if not improved:
            break
        history.append({"iteration": it, "W": value, "U": out.u, "V": out.v, "alpha": alpha})
        if on_step:
            on_step(it, out, alpha)
    final = solve(env, beta, game, cfg, x0=out.eq.x, check=True)  # verify the returned equilibrium
    return Ascent(beta, final, history)


def save_array(path: Path, **arrays: Any) -> None:
    """Write an .npz atomically (a kill mid-write leaves the previous file)."""
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays))


def optimize_run(cfg: UgcConfig, run: Run, env: Environment | None = None) -> dict[str, Any]:
    """Best global beta on the grid, projected ascent of the global beta, then (per_user) of one beta per user.

    Each finished phase is a record in results.jsonl (resume skips it); the per-user betas are saved
    in ``betas.npz``.
    """
    env = env if env is not None else make_environment(cfg.env)
    game = make_game(cfg)
    lam = cfg.optim.lam
    done = run.latest()
    if "grid" not in done:
        outs, best = grid_search(env, game, cfg, cfg.betas, lam)
        run.append({"key": "grid", "ok": True, "value": [o.summary() | {"W": welfare_of(o, lam)} for o in outs]})
        done = run.latest()
    grid = done["grid"]["value"]
    best_grid = max(grid, key=lambda r: r["W"])
    phases = [("global", False)] + ([("per_user", True)] if cfg.optim.per_user else [])
    for name, per_user in phases:
        if name in done:
            continue
        if per_user:
            start: float | np.ndarray = cfg.optim.init_beta if cfg.optim.init_beta is not None \
                else done["global"]["value"]["beta"]
        else:
            start = cfg.optim.init_beta if cfg.optim.init_beta is not None else best_grid["beta"]
        trace = ascend(env, game, cfg, start, per_user=per_user, lam=lam, steps=cfg.optim.steps)
        beta = trace.beta
        if per_user:
            save_array(run.dir / "betas.npz", beta=np.asarray(beta), x=trace.outcome.eq.x)
        run.append({"key": name, "ok": True, "value": trace.outcome.summary() | {
            "W": welfare_of(trace.outcome, lam), "beta": float(np.mean(beta)), "history": trace.history}})
        done = run.latest()
    return {"env": env, "grid": grid, "best_grid": best_grid,
            **{name: done[name]["value"] for name, _ in phases}}


# ---------------------------------------------------------------- frontier


def beta_curve(env: Environment, game: Game, cfg: UgcConfig, points: int = 41) -> list[Solved]:
    """U and V along a fine global-beta grid over [beta_min, beta_max] (warm-started)."""
    grid = sorted(set(np.linspace(cfg.optim.beta_min, cfg.optim.beta_max, points).round(6)) | set(cfg.betas))
    outs, _ = grid_search(env, game, cfg, [b for b in grid if cfg.optim.beta_min <= b <= cfg.optim.beta_max], 0.0)
    return outs


def frontier_run(cfg: UgcConfig, run: Run, env: Environment | None = None) -> dict[str, Any]:
    """For each lambda: the W-maximising global beta (grid + projected ascent), its U and V; with
    optim.per_user also the per-user optimum. Each lambda is a resumable record."""
    env = env if env is not None else make_environment(cfg.env)
    game = make_game(cfg)
    curve = beta_curve(env, game, cfg)

    def one(lam: float) -> dict[str, Any]:
        best = max(curve, key=lambda o: welfare_of(o, lam))
        glob = ascend(env, game, cfg, float(best.beta), per_user=False, lam=lam, steps=cfg.optim.steps)
        row = {"lambda": lam, "beta": float(glob.beta), "U": glob.outcome.u, "V": glob.outcome.v,
               "W": welfare_of(glob.outcome, lam), "exploitability": glob.outcome.exploitability}
        if cfg.optim.per_user:
            pers = ascend(env, game, cfg, float(glob.beta), per_user=True, lam=lam, steps=cfg.optim.steps)
            row |= {"per_user": {"U": pers.outcome.u, "V": pers.outcome.v, "W": welfare_of(pers.outcome, lam),
                                 "beta_mean": float(np.mean(pers.beta)), "beta_std": float(np.std(pers.beta))}}
        return row

    number = (int, float)
    done = run_items(run, [(f"lambda={lam:g}", lam) for lam in cfg.lambdas], one, workers=1, desc="lambdas",
                     max_error_rate=0.0, kinds=dict.fromkeys(("lambda", "beta", "U", "V", "W", "exploitability"),
                                                             number))
    return {"env": env, "curve": [o.summary() for o in curve],
            "points": [done[f"lambda={lam:g}"]["value"] for lam in cfg.lambdas]}
