"""Workflows: the trade-off on ten environments, per-user beta against a fine grid, sweeps with resume."""

import json

import numpy as np
import pytest

from labkit.core.config import load_config
from labkit.core.runs import resume_run, start_run
from labkit.ugc.config import UgcConfig
from labkit.ugc.eval import monotonicity
from labkit.ugc.method import ascend, grid_search, make_game, sweep_arrays, sweep_run, welfare_of


def test_tradeoff_on_ten_paper_size_environments(tmp_path) -> None:
    """n=50, m=500, d=8, beta in {0,1,2,5,10,20}: U strictly up and V strictly down for every seed."""
    cfg = load_config(UgcConfig, overrides=["seeds=10"])
    run = start_run("ugc", "sweep", {}, root=tmp_path)
    results = sweep_run(cfg, run)
    betas, u, v = sweep_arrays(results)
    assert betas.tolist() == [0, 1, 2, 5, 10, 20] and u.shape == (10, 6)
    mono = monotonicity(u, v)
    assert all(mono.u_increasing) and all(mono.v_decreasing)
    assert max(r["exploitability"] for rows in results.values() for r in rows) < 1e-6


def test_per_user_beta_beats_the_best_global_beta_on_a_fine_grid() -> None:
    cfg = load_config(UgcConfig, overrides=["env.n=30", "env.m=200", "optim.lam=4"])
    from labkit.ugc.envs import make_environment

    env, game, lam = make_environment(cfg.env), make_game(cfg), 4.0
    _, best = grid_search(env, game, cfg, list(np.linspace(0, 20, 401)), lam)
    per_user = ascend(env, game, cfg, 1.0, per_user=True, lam=lam, steps=100)  # neutral start, not the grid's best
    assert welfare_of(per_user.outcome, lam) > welfare_of(best, lam)
    assert per_user.outcome.exploitability < 1e-6
    history = [h["W"] for h in per_user.history]
    assert all(b > a for a, b in zip(history, history[1:], strict=False))  # ascent never goes down
    glob = ascend(env, game, cfg, 1.0, per_user=False, lam=lam, steps=100)
    assert abs(float(glob.beta) - float(best.beta)) < 0.06  # gradient ascent finds the grid optimum


def test_sweep_resume_repeats_no_finished_environment(tmp_path, monkeypatch) -> None:
    cfg = load_config(UgcConfig, overrides=["seeds=3", "env.n=10", "env.m=50", "betas=[0,5]"])
    run = start_run("ugc", "sweep", {}, root=tmp_path)
    first = sweep_run(cfg, run)
    lines = run.results_path.read_text().splitlines()
    run.results_path.write_text("\n".join(lines[:2]) + "\n" + lines[2][:20])  # killed while writing seed 3
    calls = []
    import labkit.ugc.method as method

    original = method.sweep_environment
    monkeypatch.setattr(method, "sweep_environment",
                        lambda c, s, keep_arrays: calls.append(s) or original(c, s, keep_arrays))
    again = sweep_run(cfg, resume_run(run.dir))
    assert len(calls) == 1
    assert [json.loads(x)["key"] for x in run.results_path.read_text().splitlines()] == \
        [json.loads(x)["key"] for x in lines]
    for seed in first:
        assert [r["U"] for r in again[seed]] == pytest.approx([r["U"] for r in first[seed]], rel=0, abs=1e-9)
