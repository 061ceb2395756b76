"""Gumbel-top-k: exactly floor(rN) in corpus order, top-k as tau -> 0, uniform as tau -> infinity, the
streaming selector equal to the in-memory one for the same seed whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.pds.select import keep_count, select, select_streaming, uniform_of


@pytest.mark.parametrize(("n", "r", "k"), [(1000, 0.4, 400), (999, 0.4, 399), (7, 0.5, 3), (3, 1.0, 3),
                                           (400, 0.29, 116), (90, 0.7, 63), (10, 0.05, 0)])
def test_exactly_floor_rn_in_corpus_order(n: int, r: float, k: int) -> None:
    # 0.29 x 400 and 0.7 x 90 are 115.99999999999999 and 62.99999999999999 in floats: floor gave 115 and 62
    got = select(np.random.default_rng(0).normal(size=n), r=r)
    assert len(got) == k == keep_count(r, n) and np.all(np.diff(got) > 0)
    chunks = [(np.arange(n), np.random.default_rng(0).normal(size=n))]
    assert np.array_equal(select_streaming(chunks, n, r), got)


@pytest.mark.parametrize("r", [0.0, -0.4, 1.5, float("nan")])
def test_r_outside_0_1_is_refused_in_memory_and_streaming(r: float) -> None:
    with pytest.raises(ValueError, match=r"r must be in \(0, 1\]"):
        select(np.zeros(10), r=r)
    with pytest.raises(ValueError, match=r"r must be in \(0, 1\]"):
        select_streaming([(np.arange(10), np.zeros(10))], 10, r=r)


def test_tends_to_top_k_and_to_uniform() -> None:
    scores = np.random.default_rng(1).normal(size=2000)
    top = np.sort(np.argsort(-scores)[:800])
    assert np.array_equal(select(scores, 0.4, tau=1e-6, seed=3), top)
    picks = np.zeros(2000)
    for seed in range(200):
        picks[select(scores, 0.4, tau=1e6, seed=seed)] += 1
    rate = picks / 200  # each item kept with probability 0.4 regardless of its score
    assert abs(rate.mean() - 0.4) < 1e-9 and abs(np.corrcoef(scores, rate)[0, 1]) < 0.1
    assert abs(rate[np.argsort(scores)[:200]].mean() - rate[np.argsort(scores)[-200:]].mean()) < 0.05


def test_streaming_equals_in_memory_for_any_chunking() -> None:
    scores = np.random.default_rng(2).normal(size=5000)
    want = select(scores, 0.4, tau=0.1, seed=7)
    for size in (1, 333, 5000):
        chunks = ((np.arange(i, min(i + size, 5000)), scores[i:i + size]) for i in range(0, 5000, size))
        assert np.array_equal(select_streaming(chunks, 5000, 0.4, tau=0.1, seed=7), want)


def test_noise_is_uniform_and_depends_on_seed_and_index_only() -> None:
    u = uniform_of(np.arange(100_000), 5)
    assert 0 < u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert np.array_equal(uniform_of(np.array([42, 7]), 5), u[[42, 7]]) and not np.array_equal(
        uniform_of(np.arange(10), 6), u[:10])
