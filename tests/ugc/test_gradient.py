"""The implicit-function gradient of W against central finite differences of re-solved equilibria."""

import numpy as np
import pytest

from labkit.ugc.game import Game
from labkit.ugc.gradient import welfare, welfare_gradient
from labkit.ugc.solver import solve_equilibrium

H = 1e-4


def w_at(env, beta, game, lam):
    x = solve_equilibrium(env.relevance, env.costs, beta, game, tol=1e-13).x
    return welfare(env.relevance, beta, x, lam, game)


def grad_at(env, beta, game, lam, per_user, method="exact"):
    x = solve_equilibrium(env.relevance, env.costs, beta, game, tol=1e-13).x
    return welfare_gradient(env.relevance, env.costs, beta, x, lam, game, per_user=per_user, method=method)


@pytest.mark.parametrize("beta", [0.5, 3.0, 12.0])
@pytest.mark.parametrize("lam", [0.0, 4.0])
def test_global_gradient_matches_central_differences(small_env, beta, lam) -> None:
    game = Game()
    g = grad_at(small_env, beta, game, lam, per_user=False)[0]
    fd = (w_at(small_env, beta + H, game, lam) - w_at(small_env, beta - H, game, lam)) / (2 * H)
    assert abs(g - fd) / abs(fd) < 1e-4


def test_per_user_gradient_matches_central_differences(small_env) -> None:
    game, lam = Game(), 2.0
    rng = np.random.default_rng(0)
    beta = rng.uniform(1, 10, small_env.m)
    g = grad_at(small_env, beta, game, lam, per_user=True)
    for j in (0, 17, 123):
        step = np.zeros(small_env.m)
        step[j] = H
        fd = (w_at(small_env, beta + step, game, lam) - w_at(small_env, beta - step, game, lam)) / (2 * H)
        assert abs(g[j] - fd) / abs(fd) < 1e-4
    direction = rng.normal(size=small_env.m)
    fd = (w_at(small_env, beta + H * direction, game, lam) - w_at(small_env, beta - H * direction, game, lam)) / (2 * H)
    assert abs(g @ direction - fd) / abs(fd) < 1e-4


def test_global_gradient_is_the_sum_of_per_user_ones(small_env) -> None:
    per_user = grad_at(small_env, 4.0, Game(), 1.0, per_user=True)
    np.testing.assert_allclose(per_user.sum(), grad_at(small_env, 4.0, Game(), 1.0, per_user=False)[0], rtol=1e-12)


def test_inactive_creators_are_left_out(small_env) -> None:
    game = Game(cost_power=1.0)  # linear costs: some creators produce nothing
    x = solve_equilibrium(small_env.relevance, small_env.costs, 3.0, game, tol=1e-13).x
    assert (x == 0).any()
    g = welfare_gradient(small_env.relevance, small_env.costs, 3.0, x, 1.0, game, per_user=False)[0]
    fd = (w_at(small_env, 3.0 + H, game, 1.0) - w_at(small_env, 3.0 - H, game, 1.0)) / (2 * H)
    assert abs(g - fd) / abs(fd) < 1e-4


def test_krylov_equals_exact(small_env) -> None:
    beta = np.random.default_rng(1).uniform(0, 10, small_env.m)
    np.testing.assert_allclose(grad_at(small_env, beta, Game(), 3.0, True, "krylov"),
                               grad_at(small_env, beta, Game(), 3.0, True, "exact"), rtol=1e-8, atol=1e-12)


def test_gradient_needs_the_smooth_game(small_env) -> None:
    from labkit.core.errors import ConfigError

    with pytest.raises(ConfigError, match="ppm"):
        welfare_gradient(small_env.relevance, small_env.costs, 1.0, np.ones(small_env.n), 1.0,
                         Game("slate", 2), per_user=False)
