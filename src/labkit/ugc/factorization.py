"""Relevance from explicit ratings: biased matrix factorisation by alternating least squares, and
creators as k-means clusters of item factor vectors (README, UGC).

r_hat(u, i) = mu + b_u + b_i + p_u . q_i; each half-step is a ridge regression per user (or item)
on the observed entries. A creator's relevance to a user is the mean predicted rating over the
creator's items, mapped to [0, 1] by the file's rating range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labkit.core.errors import DataError
from labkit.ugc.data import Ratings


@dataclass
class Factors:
    mu: float
    user_bias: np.ndarray  # (users,)
    item_bias: np.ndarray  # (items,)
    user: np.ndarray  # (users, rank)
    item: np.ndarray  # (items, rank)

    def predict(self) -> np.ndarray:
        """Full (users, items) matrix of predicted ratings."""
        return self.mu + self.user_bias[:, None] + self.item_bias[None, :] + self.user @ self.item.T


def _ridge_half_step(groups: list[tuple[np.ndarray, np.ndarray]], features: np.ndarray, target: np.ndarray,
                     reg: float) -> np.ndarray:
    """For each group (rating rows, partner indices): argmin_w ||F w - t||^2 + reg * n_obs * ||w||^2."""
    out = np.zeros((len(groups), features.shape[1]))
    eye = np.eye(features.shape[1])
    for g, (rows, partners) in enumerate(groups):
        if len(rows):
            f = features[partners]
            out[g] = np.linalg.solve(f.T @ f + reg * len(rows) * eye, f.T @ target[rows])
    return out


def _index_groups(keys: np.ndarray, partners: np.ndarray, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(count + 1))
    return [(order[bounds[k]:bounds[k + 1]], partners[order[bounds[k]:bounds[k + 1]]]) for k in range(count)]


def factorize(ratings: Ratings, rank: int = 16, reg: float = 0.1, iters: int = 15, seed: int = 0) -> Factors:
    """Biased ALS on the observed ratings."""
    n_users, n_items = len(ratings.user_ids), len(ratings.item_ids)
    rng = np.random.default_rng(seed)
    mu = float(ratings.values.mean())
    user = np.hstack([rng.normal(scale=0.1, size=(n_users, rank)), np.zeros((n_users, 1))])  # last column: bias
    item = np.hstack([rng.normal(scale=0.1, size=(n_items, rank)), np.zeros((n_items, 1))])
    by_user = _index_groups(ratings.users, ratings.items, n_users)
    by_item = _index_groups(ratings.items, ratings.users, n_items)
    centred = ratings.values - mu
    for _ in range(iters):
        # users: features [q_i, 1], target r - mu - b_i
        feats = np.hstack([item[:, :rank], np.ones((n_items, 1))])
        user = _ridge_half_step(by_user, feats, centred - item[ratings.items, rank], reg)
        feats = np.hstack([user[:, :rank], np.ones((n_users, 1))])
        item = _ridge_half_step(by_item, feats, centred - user[ratings.users, rank], reg)
    return Factors(mu, user[:, rank], item[:, rank], user[:, :rank], item[:, :rank])


def cluster_items(item_factors: np.ndarray, clusters: int, seed: int = 0) -> np.ndarray:
    """k-means labels (items,) of the item factor vectors; empty clusters are dropped and relabelled."""
    from scipy.cluster.vq import kmeans2

    if clusters < 2:
        raise DataError(f"need at least 2 creators, got {clusters}", field="env.creators")
    if clusters > len(item_factors):
        raise DataError(f"{clusters} creators requested but the file has only {len(item_factors)} items",
                        field="env.creators")
    _, labels = kmeans2(item_factors, clusters, seed=seed, minit="++")
    used, labels = np.unique(labels, return_inverse=True)
    return labels


def creator_relevance(factors: Factors, labels: np.ndarray, low: float, high: float) -> np.ndarray:
    """(creators, users): mean predicted rating over each creator's items, clipped and mapped to [0, 1].

    The mean is linear in the item factors, so it is computed from cluster means (no users x items matrix).
    """
    count = np.bincount(labels).astype(float)
    mean_item = np.zeros((len(count), factors.item.shape[1]))
    np.add.at(mean_item, labels, factors.item)
    mean_item /= count[:, None]
    mean_bias = np.bincount(labels, weights=factors.item_bias) / count
    mean = factors.mu + mean_bias[:, None] + factors.user_bias[None, :] + mean_item @ factors.user.T
    mean = np.clip(mean, low, high)
    return (mean - low) / (high - low) if high > low else np.zeros_like(mean)
