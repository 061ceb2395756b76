"""Equilibria: the beta = 0 closed form, exploitability by an independent search, failure modes."""

import numpy as np
import pytest

from labkit.ugc.envs import synthetic
from labkit.ugc.eval import exploitability
from labkit.ugc.game import Game
from labkit.ugc.solver import SolverError, solve_equilibrium


@pytest.mark.parametrize("n,m,c", [(2, 1, 1.0), (5, 40, 0.7), (50, 500, 1.0), (200, 1000, 2.5)])
@pytest.mark.parametrize("method", ["aggregate", "gauss-seidel"])
def test_beta_zero_symmetric_closed_form(n, m, c, method) -> None:
    relevance = np.random.default_rng(n).uniform(size=(n, m))  # irrelevant at beta = 0
    eq = solve_equilibrium(relevance, np.full(n, c), 0.0, Game(), method=method)
    expected = np.sqrt(m * (n - 1) / (2 * c * n**2))
    np.testing.assert_allclose(eq.x, expected, rtol=0, atol=1e-6)
    assert abs(eq.x - expected).max() < 1e-9  # the solver actually gets much closer
    assert exploitability(relevance, np.full(n, c), 0.0, Game(), eq.x) < 1e-6


@pytest.mark.parametrize("beta", [0.0, 1.0, 5.0, 20.0, 100.0])
def test_every_equilibrium_is_unexploitable(paper_env, beta) -> None:
    eq = solve_equilibrium(paper_env.relevance, paper_env.costs, beta, Game())
    assert eq.kkt_residual < 1e-7
    assert np.all(np.isfinite(eq.x))
    assert exploitability(paper_env.relevance, paper_env.costs, beta, Game(), eq.x) < 1e-6


def test_exploitability_check_is_not_vacuous(paper_env) -> None:
    eq = solve_equilibrium(paper_env.relevance, paper_env.costs, 5.0, Game())
    moved = eq.x.copy()
    moved[3] *= 1.05
    assert exploitability(paper_env.relevance, paper_env.costs, 5.0, Game(), moved) > 1e-4


@pytest.mark.parametrize("power", [1.0, 1.5, 3.0])
def test_power_costs_and_inactive_creators(small_env, power) -> None:
    game = Game(cost_power=power)
    eq = solve_equilibrium(small_env.relevance, small_env.costs, 3.0, game)
    other = solve_equilibrium(small_env.relevance, small_env.costs, 3.0, game, method="gauss-seidel")
    np.testing.assert_allclose(eq.x, other.x, atol=1e-7)
    assert exploitability(small_env.relevance, small_env.costs, 3.0, game, eq.x) < 1e-6
    if power == 1.0:
        assert (eq.x == 0).sum() > 0  # linear costs price some creators out


def test_slate_equilibrium() -> None:
    env = synthetic(8, 60, 4, seed=1)
    game = Game("slate", 2)
    eq = solve_equilibrium(env.relevance, env.costs, 2.0, game)
    assert eq.method == "generic" and eq.kkt_residual < 1e-5
    assert exploitability(env.relevance, env.costs, 2.0, game, eq.x) < 1e-6
    ppm = solve_equilibrium(env.relevance, env.costs, 2.0, Game())
    assert eq.x.sum() > ppm.x.sum()  # twice the impressions to compete for


def test_per_user_beta_solves(small_env) -> None:
    betas = np.random.default_rng(0).uniform(0, 20, small_env.m)
    eq = solve_equilibrium(small_env.relevance, small_env.costs, betas, Game())
    assert exploitability(small_env.relevance, small_env.costs, betas, Game(), eq.x) < 1e-6


def test_no_convergence_fails_loudly(small_env) -> None:
    with pytest.raises(SolverError, match="did not converge"):
        solve_equilibrium(small_env.relevance, small_env.costs, 5.0, Game(), max_iter=2)


def test_identical_seeds_identical_results() -> None:
    a, b = synthetic(20, 100, 8, seed=7), synthetic(20, 100, 8, seed=7)
    np.testing.assert_array_equal(a.relevance, b.relevance)
    xa = solve_equilibrium(a.relevance, a.costs, 5.0, Game()).x
    xb = solve_equilibrium(b.relevance, b.costs, 5.0, Game()).x
    np.testing.assert_array_equal(xa, xb)
    assert not np.array_equal(synthetic(20, 100, 8, seed=8).relevance, a.relevance)
