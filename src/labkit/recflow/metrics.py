"""RecFlow's metrics, on flat arrays (one entry per (request, candidate) row; nothing dropped at batch edges):

- ``auc_logloss``: scikit-learn's AUC and log loss over all rows;
- ``gauc``: AUC per group (user or request), weighted by the group's rows, over groups with both labels; the
  skipped groups are counted (the original has no GAUC);
- ``ranking``: Recall@K and NDCG@K within each request's candidates, positives = label 1, in the original's
  unnormalised form (each hit adds 1/log2(rank + 2), divided by the number of positives) and the normalised one
  (DCG / ideal DCG); requests with no positive or only positives are skipped and counted;
- ``recall_k_m``: LCRON's cascade Recall@k@m - the share of a request's k ground-truth items (e.g. its 10
  ``rank_pos``) among the model's top m;
- ``topk``: exact inner-product top-K with faiss (IndexFlatIP), or NumPy brute force for comparison.

Ranking ties are broken by row order (a stable sort), the same for every metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def auc_logloss(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import log_loss, roc_auc_score

    y = np.asarray(y)
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
    return {"auc": auc, "logloss": float(log_loss(y, p, labels=[0, 1])), "rows": len(y)}


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stable order grouping equal keys, and the group boundaries in it."""
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    cuts = np.flatnonzero(np.r_[True, k[1:] != k[:-1], True])
    return order, cuts


def gauc(groups: np.ndarray, y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    order, cuts = _groups(np.asarray(groups))
    y, score = np.asarray(y)[order], np.asarray(score)[order]
    total = weight = 0.0
    used = skipped = 0
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        yy = y[a:b]
        if 0 < yy.sum() < len(yy):
            total += (b - a) * roc_auc_score(yy, score[a:b])
            weight += b - a
            used += 1
        else:
            skipped += 1
    return {"gauc": total / weight if weight else float("nan"), "groups": used, "skipped": skipped}


@dataclass
class Ranking:
    recall: dict[int, float] = field(default_factory=dict)
    ndcg: dict[int, float] = field(default_factory=dict)  # the original's unnormalised form
    ndcg_normalised: dict[int, float] = field(default_factory=dict)
    requests: int = 0
    skipped_no_positive: int = 0
    skipped_all_positive: int = 0


def ranking(requests: np.ndarray, y: np.ndarray, score: np.ndarray, ks: tuple[int, ...] = (50, 100, 200)) -> Ranking:
    order, cuts = _groups(np.asarray(requests))
    y, score = np.asarray(y)[order], np.asarray(score, dtype=np.float64)[order]
    out = Ranking()
    sums = {k: [0.0, 0.0, 0.0] for k in ks}
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        yy = y[a:b]
        n_pos = int(yy.sum())
        if n_pos == 0:
            out.skipped_no_positive += 1
            continue
        if n_pos == len(yy):
            out.skipped_all_positive += 1
            continue
        ranked = yy[np.argsort(-score[a:b], kind="stable")]
        gains = 1.0 / np.log2(np.arange(len(ranked)) + 2)
        for k in ks:
            hits = ranked[:k]
            dcg = float((hits * gains[:len(hits)]).sum())
            sums[k][0] += hits.sum() / n_pos
            sums[k][1] += dcg / n_pos
            sums[k][2] += dcg / float(gains[:min(n_pos, k)].sum())
        out.requests += 1
    n = max(out.requests, 1)
    for k in ks:
        out.recall[k], out.ndcg[k], out.ndcg_normalised[k] = (s / n for s in sums[k])
    return out


def recall_k_m(requests: np.ndarray, truth: np.ndarray, score: np.ndarray, k: int = 10, m: int = 20
               ) -> dict[str, Any]:
    """Mean over requests with ground truth of |truth in the model's top m| / min(k, |truth|)."""
    order, cuts = _groups(np.asarray(requests))
    truth, score = np.asarray(truth)[order], np.asarray(score, dtype=np.float64)[order]
    vals, skipped = [], 0
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        t = truth[a:b]
        if not t.any():
            skipped += 1
            continue
        top = np.argsort(-score[a:b], kind="stable")[:m]
        vals.append(t[top].sum() / min(k, int(t.sum())))
    return {"recall": float(np.mean(vals)) if vals else float("nan"), "requests": len(vals), "skipped": skipped}


def topk(queries: np.ndarray, items: np.ndarray, k: int, *, backend: str = "faiss") -> tuple[np.ndarray, np.ndarray]:
    """(scores, indices) of the k largest inner products per query, best first."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    x = np.ascontiguousarray(items, dtype=np.float32)
    k = min(k, len(x))
    if backend == "faiss":
        import faiss

        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        return index.search(q, k)
    s = q @ x.T
    idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
    part = np.take_along_axis(s, idx, 1)
    o = np.argsort(-part, axis=1, kind="stable")
    return np.take_along_axis(part, o, 1), np.take_along_axis(idx, o, 1)
