"""Gumbel-top-k selection (PDS Sec. 3.3): keep floor(r N) items with the largest score / tau + Gumbel noise,
returned in corpus order. tau -> 0 is the plain top-k, tau -> infinity a uniform random subset.

``select`` works in memory; ``select_streaming`` makes one pass over (index, score) chunks keeping only a
bounded min-heap of the best k keys (O(k) memory, no sort of the whole corpus), with the noise of item i drawn
from a generator seeded by (seed, i) - so both give exactly the same selection for the same seed, and the noise
of an item does not depend on how the corpus was chunked.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from fractions import Fraction

import numpy as np


def uniform_of(indices: np.ndarray, seed: int) -> np.ndarray:
    """A uniform (0, 1) number per item from (seed, index) alone: SplitMix64 of the pair, vectorised (numpy's
    generators are sequential streams, which would tie an item's noise to its position in a chunk)."""
    with np.errstate(over="ignore"):
        z = (np.asarray(indices, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15) \
            ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * np.uint64(0xD1B54A32D192ED03)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def gumbel_noise(indices: np.ndarray, seed: int) -> np.ndarray:
    """Standard Gumbel noise for items ``indices``, a function of (seed, index) only."""
    return -np.log(-np.log(uniform_of(indices, seed)))


def keys(scores: np.ndarray, indices: np.ndarray, tau: float, seed: int) -> np.ndarray:
    if tau <= 0:
        raise ValueError("tau must be > 0 (tau -> 0 is top-k)")
    return np.asarray(scores, dtype=np.float64) / tau + gumbel_noise(indices, seed)


def keep_count(r: float, n: int) -> int:
    """floor(r N) in exact arithmetic on the decimal ``r`` as written (0.29 x 400 = 116, where floats give 115);
    r must be in (0, 1]."""
    if not 0 < r <= 1:  # NaN fails too
        raise ValueError(f"r must be in (0, 1], got {r!r}")
    return int(Fraction(str(r)) * n // 1)


def select(scores: np.ndarray, r: float = 0.4, tau: float = 0.1, seed: int = 0) -> np.ndarray:
    """Indices of the kept items (exactly floor(r N)), ascending (corpus order)."""
    n = len(scores)
    k = keep_count(r, n)
    if k == 0:
        return np.array([], dtype=np.int64)
    z = keys(scores, np.arange(n), tau, seed)
    return np.sort(np.argpartition(-z, k - 1)[:k])


def select_streaming(chunks: Iterable[tuple[np.ndarray, np.ndarray]], n: int, r: float = 0.4, tau: float = 0.1,
                     seed: int = 0) -> np.ndarray:
    """The same selection from (indices, scores) chunks of a corpus of ``n`` items, in one pass."""
    k = keep_count(r, n)
    if k == 0:
        return np.array([], dtype=np.int64)
    heap: list[tuple[float, int]] = []  # (key, -index): the smallest key (ties: the larger index) on top
    for idx, sc in chunks:
        for key, i in zip(keys(sc, idx, tau, seed), idx, strict=True):
            item = (float(key), -int(i))
            if len(heap) < k:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
    return np.sort(np.array([-i for _, i in heap], dtype=np.int64))
