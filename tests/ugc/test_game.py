"""Matching, traffic and utilities: limits, sums and independent Monte-Carlo checks."""

import numpy as np
import pytest

from labkit.core.errors import ConfigError
from labkit.ugc.game import EULER_GAMMA, Game, inclusion, shares, totals, user_utilities, weights


def test_beta_zero_allocation_ignores_relevance(small_env) -> None:
    x = np.random.default_rng(1).uniform(0.5, 2.0, small_env.n)
    p = shares(x, weights(small_env.relevance, 0.0))
    np.testing.assert_allclose(p, np.repeat((x / x.sum())[:, None], small_env.m, axis=1), atol=1e-15)
    shuffled = small_env.relevance[:, np.random.default_rng(2).permutation(small_env.m)]
    np.testing.assert_allclose(shares(x, weights(shuffled, 0.0)), p, atol=1e-15)


def test_large_beta_sends_each_user_to_the_most_relevant_active_creator(small_env) -> None:
    x = np.ones(small_env.n)
    x[np.argmax(small_env.relevance[:, 0])] = 0.0  # user 0's favourite produces nothing
    active = np.where(x[:, None] > 0, small_env.relevance, -np.inf)
    best_active = np.argmax(active, axis=0)
    top_two = np.sort(active, axis=0)[-2:]
    gap = float((top_two[1] - top_two[0]).min())
    cols = np.arange(small_env.m)
    top_share = [shares(x, weights(small_env.relevance, b, x))[best_active, cols] for b in (1.0, 10.0, 100.0, 40 / gap)]
    assert np.all(np.diff(np.array(top_share), axis=0) >= -1e-12)  # concentrates monotonically
    np.testing.assert_allclose(top_share[-1], 1.0, atol=1e-9)


def test_log_space_is_finite_at_beta_100(small_env) -> None:
    a = weights(small_env.relevance, 100.0)
    assert np.all(np.isfinite(a)) and a.max() == 1.0
    x = np.ones(small_env.n)
    u, v = totals(x, a, small_env.relevance, Game())
    assert np.isfinite(u) and v == small_env.n
    np.testing.assert_allclose(shares(x, a).sum(axis=0), 1.0)


def test_per_user_beta_broadcasts_over_users(small_env) -> None:
    betas = np.linspace(0, 10, small_env.m)
    a = weights(small_env.relevance, betas)
    for j in (0, 57, 199):
        np.testing.assert_allclose(a[:, j], weights(small_env.relevance[:, j:j + 1], betas[j])[:, 0])


def _sample_pairs(w: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Independent sampler: K=2 without replacement by Gumbel-top-2 on log weights; returns (draws, 2)."""
    keys = np.log(w)[None, :] + rng.gumbel(size=(draws, len(w)))
    return np.argsort(-keys, axis=1)[:, :2]


def test_two_slate_inclusion_matches_sampling_without_replacement() -> None:
    rng = np.random.default_rng(0)
    x, a = rng.uniform(0.2, 3.0, 6), rng.uniform(0.05, 1.0, (6, 1))
    exact = inclusion(x, a, Game("slate", 2))[:, 0]
    pairs = _sample_pairs(x * a[:, 0], 400_000, rng)
    freq = np.bincount(pairs.ravel(), minlength=6) / 400_000
    np.testing.assert_allclose(exact.sum(), 2.0)
    np.testing.assert_allclose(exact, freq, atol=4e-3)


def test_one_slate_is_ppm(small_env) -> None:
    x = np.random.default_rng(3).uniform(0.5, 2, small_env.n)
    a = weights(small_env.relevance, 3.0)
    np.testing.assert_allclose(inclusion(x, a, Game("slate", 1)), shares(x, a))


def test_gumbel_utility_closed_forms(small_env) -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(0.5, 2, small_env.n)
    a = weights(small_env.relevance, 2.0)
    one = user_utilities(x, a, small_env.relevance, Game(utility="gumbel"))
    plain = user_utilities(x, a, small_env.relevance, Game())
    np.testing.assert_allclose(one, plain + EULER_GAMMA)
    # 2-slate: Monte Carlo over slates and Gumbel noise for one user
    j = 5
    w = x * a[:, j]
    pairs = _sample_pairs(w, 200_000, rng)
    sig = small_env.relevance[:, j][pairs] + rng.gumbel(size=pairs.shape)
    mc = sig.max(axis=1).mean()
    exact = user_utilities(x, a[:, j:j + 1], small_env.relevance[:, j:j + 1], Game("slate", 2, utility="gumbel"))[0]
    assert abs(exact - mc) < 0.01


@pytest.mark.parametrize("bad", [dict(matching="topk"), dict(matching="slate", slate_k=3), dict(cost_power=0.5),
                                 dict(utility="clicks")])
def test_bad_game_pieces_are_config_errors(bad) -> None:
    with pytest.raises(ConfigError):
        Game(**bad)
