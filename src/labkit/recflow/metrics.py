"""RecFlow's metrics, on flat arrays (one entry per (request, candidate) row; nothing dropped at batch edges):

- ``auc_logloss``: scikit-learn's AUC and log loss over all rows;
- ``gauc``: AUC per group (user or request), weighted by the group's rows, over groups with both labels; the
  skipped groups are counted (the original has no GAUC);
- ``ranking`` (candidate lists: coarse, rank) and ``from_ranks`` (any ranking, e.g. a retrieval top-K; ``ranking``
  ends in it): Recall@K and NDCG@K, positives = label 1, in the released code's form (hits and unnormalised DCG
  summed over requests, divided by all positives), per request, and normalised (``Ranking``); requests with no
  positive, or only positives in a candidate list, are skipped and counted;
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
    """Recall@K and NDCG@K in three forms, with the evaluated and skipped requests counted.

    - ``recall`` / ``ndcg``: the released code's definition - hits (and the unnormalised DCG, each hit adding
      1/log2(rank + 2)) summed over all evaluated requests, divided by the total number of positives;
    - ``recall_per_request`` / ``ndcg_per_request``: the same ratios taken per request, then averaged;
    - ``ndcg_normalised``: DCG / ideal DCG per request, averaged.
    """

    recall: dict[int, float] = field(default_factory=dict)
    ndcg: dict[int, float] = field(default_factory=dict)
    recall_per_request: dict[int, float] = field(default_factory=dict)
    ndcg_per_request: dict[int, float] = field(default_factory=dict)
    ndcg_normalised: dict[int, float] = field(default_factory=dict)
    requests: int = 0
    positives: int = 0
    skipped_no_positive: int = 0
    skipped_all_positive: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the per-K values keyed by str(K), as metrics.json and results.jsonl hold them."""
        return {k: {str(kk): vv for kk, vv in v.items()} if isinstance(v, dict) else v
                for k, v in self.__dict__.items()}


def from_ranks(request: np.ndarray, rank: np.ndarray, ks: tuple[int, ...]) -> Ranking:
    """The three forms from every positive of the evaluated requests: its request and its 0-based rank in that
    request's ranking (``inf`` when the ranking does not hold it, e.g. outside a retrieval top-K)."""
    out = Ranking()
    _, inv = np.unique(np.asarray(request), return_inverse=True)
    rank = np.asarray(rank, dtype=np.float64)
    n_pos = np.bincount(inv).astype(np.float64)
    out.requests, out.positives = len(n_pos), int(n_pos.sum())
    if not len(rank):
        nan = float("nan")
        for k in ks:
            out.recall[k] = out.ndcg[k] = out.recall_per_request[k] = out.ndcg_per_request[k] = nan
            out.ndcg_normalised[k] = nan
        return out
    ideal = np.cumsum(1.0 / np.log2(np.arange(max(ks)) + 2))  # ideal[j - 1]: DCG of j hits at the top
    for k in ks:
        hit = rank < k
        gain = np.where(hit, 1.0 / np.log2(np.where(hit, rank, 0) + 2), 0.0)
        hits, dcg = np.bincount(inv, hit.astype(np.float64)), np.bincount(inv, gain)
        out.recall[k], out.ndcg[k] = float(hits.sum() / n_pos.sum()), float(dcg.sum() / n_pos.sum())
        out.recall_per_request[k] = float(np.mean(hits / n_pos))
        out.ndcg_per_request[k] = float(np.mean(dcg / n_pos))
        out.ndcg_normalised[k] = float(np.mean(dcg / ideal[np.minimum(n_pos, k).astype(np.int64) - 1]))
    return out


def _positive_ranks(starts: np.ndarray, sizes: np.ndarray, score: np.ndarray, group: np.ndarray, at: np.ndarray,
                    cells: int = 8_000_000) -> np.ndarray:
    """0-based rank of rows ``at`` within their groups (``group[at]``; a group is the contiguous rows
    ``starts[g] : starts[g] + sizes[g]``), best score first, ties in row order: the candidates scoring higher plus
    the equal ones listed earlier. Only the positives' ranks are needed, so nothing is sorted: each positive is
    compared with its padded group row, in blocks of ``cells``."""
    rows, inverse = np.unique(group[at], return_inverse=True)
    width = int(sizes[rows].max()) if len(rows) else 1
    mat = np.full((len(rows), width), -np.inf)
    row = np.repeat(np.arange(len(rows)), sizes[rows])
    col = np.arange(len(row)) - np.repeat(np.cumsum(sizes[rows]) - sizes[rows], sizes[rows])
    mat[row, col] = score[np.repeat(starts[rows], sizes[rows]) + col]
    value, mine = score[at], at - starts[group[at]]
    out = np.empty(len(at), dtype=np.int64)
    step = max(1, cells // width)
    for a in range(0, len(at), step):
        m, v = mat[inverse[a:a + step]], value[a:a + step, None]
        before = np.arange(width)[None, :] < mine[a:a + step, None]
        out[a:a + step] = (m > v).sum(1) + ((m == v) & before).sum(1)
    return out


def ranking(requests: np.ndarray, y: np.ndarray, score: np.ndarray, ks: tuple[int, ...] = (50, 100, 200), *,
            skip_all_positive: bool = True) -> Ranking:
    """Recall/NDCG@K within each request's candidate list (one row per candidate, any row order), as the
    released coarse and rank evaluations: requests with no positive, or (``skip_all_positive``) only
    positives, are skipped and counted; ties keep row order (a stable sort)."""
    requests = np.asarray(requests)
    grouped = len(requests) < 2 or bool((requests[1:] >= requests[:-1]).all())
    order = np.arange(len(requests)) if grouped else np.argsort(requests, kind="stable")  # row order kept
    req, pos = requests[order], np.asarray(y).astype(bool)[order]
    starts = np.flatnonzero(np.r_[True, req[1:] != req[:-1]]) if len(req) else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(req)])
    n_pos = np.add.reduceat(pos.astype(np.int64), starts) if len(req) else np.zeros(0, dtype=np.int64)
    keep = (n_pos > 0) & ~((n_pos == sizes) if skip_all_positive else False)
    group = np.repeat(np.arange(len(starts)), sizes)
    at = np.flatnonzero(pos & keep[group])
    rank = _positive_ranks(starts, sizes, np.asarray(score, dtype=np.float64)[order], group, at)
    out = from_ranks(group[at], rank, ks)
    out.skipped_no_positive = int((n_pos == 0).sum())
    out.skipped_all_positive = int(((n_pos == sizes) & (n_pos > 0)).sum()) if skip_all_positive else 0
    return out


def ranks_in_top(top_items: np.ndarray, request_of_positive: np.ndarray, positive_items: np.ndarray) -> np.ndarray:
    """0-based rank of each positive item in its request's retrieved list (row ``request_of_positive`` of
    ``top_items``), ``inf`` when it was not retrieved - the released retrieval evaluation's lookup."""
    rows = top_items[request_of_positive]
    match = rows == np.asarray(positive_items)[:, None]
    return np.where(match.any(1), match.argmax(1), np.inf)


def recall_k_m(requests: np.ndarray, truth: np.ndarray, score: np.ndarray, k: int = 10, m: int = 20
               ) -> dict[str, Any]:
    """Mean over requests with ground truth of |truth in the model's top m| / min(k, |truth|); a score of -inf
    (``eval.cascade_scores``: dropped by the first stage) never enters the top m."""
    order, cuts = _groups(np.asarray(requests))
    truth, score = np.asarray(truth)[order], np.asarray(score, dtype=np.float64)[order]
    vals, skipped = [], 0
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        t = truth[a:b]
        if not t.any():
            skipped += 1
            continue
        top = np.argsort(-score[a:b], kind="stable")[:m]
        top = top[np.isfinite(score[a:b][top])]  # items an earlier stage dropped (-inf) are not output
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
