"""Environments: relevance sigma (n creators, m users) and cost coefficients c_i (arXiv:2410.23683).

- synthetic: unit-norm d-dim creator and user embeddings, sigma_ij = (<s_i, u_j> + 1) / 2, costs
  c_i ~ U[low, high]; everything drawn from one seeded generator;
- a relevance matrix file (users x creators);
- a MovieLens ratings file, factorised, with creators = k-means clusters of item factors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from labkit.core.errors import ConfigError, DataError
from labkit.ugc.config import EnvConfig


@dataclass
class Environment:
    relevance: np.ndarray  # (n creators, m users), sigma_ij
    costs: np.ndarray  # (n,), c_i > 0
    source: str
    info: dict[str, object] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.relevance.shape[0]

    @property
    def m(self) -> int:
        return self.relevance.shape[1]


def unit_rows(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    v = rng.normal(size=(count, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic(n: int, m: int, d: int, seed: int, cost_low: float = 0.5, cost_high: float = 1.5) -> Environment:
    """The paper's synthetic setting (Fig. 1): random unit embeddings, relevance from inner products."""
    if n < 2 or m < 1 or d < 1:
        raise ConfigError(f"synthetic environment needs n >= 2, m >= 1, d >= 1 (got n={n}, m={m}, d={d})")
    if not 0 < cost_low <= cost_high:
        raise ConfigError(f"need 0 < env.cost_low <= env.cost_high (got {cost_low}, {cost_high})")
    rng = np.random.default_rng(seed)
    creators, users = unit_rows(rng, n, d), unit_rows(rng, m, d)
    relevance = creators @ users.T  # in place below: no extra (n, m) temporaries at large sizes
    relevance += 1.0
    relevance *= 0.5
    costs = rng.uniform(cost_low, cost_high, size=n)
    return Environment(relevance, costs, f"synthetic n={n} m={m} d={d} seed={seed}",
                       {"creator_embeddings": creators, "user_embeddings": users})


def is_ratings_file(path: Path) -> bool:
    """MovieLens layouts: a ``::``/tab file, or a CSV whose header names userId and rating."""
    if path.suffix == ".dat" or path.name == "u.data":
        return True
    if path.suffix != ".csv":
        return False
    with open(path, errors="replace") as fh:
        first = fh.readline()
    return "userId" in first and "rating" in first


def from_ratings(path: Path, cfg: EnvConfig) -> Environment:
    from labkit.ugc.data import load_ratings
    from labkit.ugc.factorization import cluster_items, creator_relevance, factorize

    ratings = load_ratings(path)
    if not 2 <= cfg.creators <= len(ratings.item_ids):  # before the factorisation's work
        raise DataError(f"env.creators {cfg.creators} needs 2 to {len(ratings.item_ids)} (the file's items)",
                        path=str(path))
    factors = factorize(ratings, rank=cfg.rank, reg=cfg.reg, iters=cfg.als_iters, seed=cfg.seed)
    labels = cluster_items(factors.item, cfg.creators, seed=cfg.seed)
    relevance = creator_relevance(factors, labels, float(ratings.values.min()), float(ratings.values.max()))
    rng = np.random.default_rng(cfg.seed)
    costs = rng.uniform(cfg.cost_low, cfg.cost_high, size=relevance.shape[0])
    return Environment(relevance, costs, f"ratings {path.name}: {len(ratings.values)} ratings, "
                       f"{len(ratings.user_ids)} users, {len(ratings.item_ids)} items -> {relevance.shape[0]} creators",
                       {"item_labels": labels, "item_ids": ratings.item_ids, "user_ids": ratings.user_ids})


def make_environment(cfg: EnvConfig, seed: int | None = None) -> Environment:
    """Build the environment ``cfg`` describes (``seed`` overrides cfg.seed for synthetic sweeps)."""
    seed = cfg.seed if seed is None else seed
    if cfg.source == "synthetic":
        env = synthetic(cfg.n, cfg.m, cfg.d, seed, cfg.cost_low, cfg.cost_high)
    else:
        path = Path(cfg.source)
        if not path.exists():
            raise DataError("file not found (env.source is 'synthetic' or a file)", path=str(path))
        if is_ratings_file(path):
            env = from_ratings(path, cfg)
        else:
            from labkit.ugc.data import load_relevance

            relevance = load_relevance(path)
            costs = np.random.default_rng(seed).uniform(cfg.cost_low, cfg.cost_high, size=relevance.shape[0])
            if path.suffix == ".npz":
                with np.load(path) as archive:
                    if "costs" in archive.files:
                        from labkit.ugc.data import load_costs

                        costs = load_costs(path, relevance.shape[0])
            env = Environment(relevance, costs, f"relevance {path.name}: {relevance.shape[1]} users x "
                              f"{relevance.shape[0]} creators")
    if cfg.costs:
        from labkit.ugc.data import load_costs

        env.costs = load_costs(cfg.costs, env.n)
    return env
