"""Evaluation on the test day, the way the released code evaluates (``candidates="official"``, the default):

- ranking stages (``evaluate_ranker``): AUC and log loss over the test day's exposures (``realshow/<day>.feather``,
  label effective_view), GAUC by user over the same rows (not in the release), and Recall/NDCG@K (50, 100, 200)
  within each request's candidates of the official test table of the model's stage - ``coarse_rank_test``
  (the released code's ``prerank_test``) for coarse ranking, ``rank_test`` for ranking - with features from the
  table itself and histories from the test day's ``seq_effective_50_dict``;
- retrieval (``evaluate_retrieval``): exact top-K (50, 100, 500, 1000) over ``realshow_video_info`` for every
  request of ``retrieval_test`` (``recall_test``), positives its effective views; on generated folders also the
  hidden-truth recall;
- a cascade of two ranking runs (``evaluate_cascade``): LCRON's Recall@k@m (Wang et al., 2025) on the coarse test
  table - the coarse model keeps its top ``m1`` per request, the rank model picks the top m of those.

Recall/NDCG come in the released form (sums over requests / all positives: ``recall``, ``ndcg``), per request
(``recall_per_request``, ``ndcg_per_request``) and normalised (``ndcg_normalised``): ``metrics.Ranking``.

``candidates="logged"`` is labkit's variant for ranking stages: the test day's logged ``all_stage`` rows stand in
for the tables (all of them, those that entered coarse ranking, those that entered ranking), reported under
``logged``; the cascade then runs on the logged rows that entered coarse ranking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from labkit.core.errors import ConfigError
from labkit.recflow.data import Funnel, Table
from labkit.recflow.metrics import auc_logloss, from_ranks, gauc, ranking, ranks_in_top, recall_k_m, topk
from labkit.recflow.models import DINContext
from labkit.recflow.retrieval import SASRec, histories
from labkit.recflow.train import day_features, predict

CANDIDATES = ("official", "logged")
RANK_KS, RETRIEVAL_KS = (50, 100, 200), (50, 100, 500, 1000)


def score(funnel: Funnel, model: torch.nn.Module, t: Table, rows: np.ndarray | None = None) -> np.ndarray:
    """The model's score of each row (or ``rows``) of a test-day table (request context when the model uses it)."""
    rows = np.arange(len(t["request_id"])) if rows is None else rows
    feats = day_features(funnel, funnel.test_day, t, rows, np.zeros(len(rows), dtype=np.int64),
                         context=isinstance(model, DINContext))
    return predict(model, feats)


def _ranked(requests: np.ndarray, label: np.ndarray, s: np.ndarray, ks: tuple[int, ...]) -> dict[str, Any]:
    return ranking(requests, label, s, ks).as_dict()


def evaluate_ranker(funnel: Funnel, model: torch.nn.Module, task: str, *, candidates: str = "official",
                    ks: tuple[int, ...] = RANK_KS) -> dict[str, Any]:
    """AUC / log loss / GAUC over the test day's exposures and Recall/NDCG@K over the ``task`` stage's test table
    (``candidates="official"``) or over the logged rows (``"logged"``)."""
    if candidates not in CANDIDATES:
        raise ConfigError(f"candidates must be one of {', '.join(CANDIDATES)} (got {candidates!r})")
    shown = funnel.day(funnel.test_day, "realshow")
    label, s = shown["effective_view"].astype(np.int64), score(funnel, model, shown)
    prob = 1 / (1 + np.exp(-s.astype(np.float64)))  # in float64: a float32 sigmoid near 1 shifts the log loss
    out: dict[str, Any] = {"test_day": funnel.test_day, "candidates": candidates, **auc_logloss(label, prob),
                           **gauc(shown["user_id"], label, s)}
    if candidates == "official":
        t = funnel.test_table(task)
        r = _ranked(t["request_id"], t["effective_view"], score(funnel, model, t), ks)
        n_req = len(np.unique(t["request_id"]))
        out["test_table"] = {"file": str(funnel.test_path(task)), "rows": len(t["request_id"]),
                             "candidates_per_request": len(t["request_id"]) / max(n_req, 1), **r}
        return out
    t = funnel.day(funnel.test_day)
    label = (t["realshow"] * t["effective_view"]).astype(np.int64)
    s = score(funnel, model, t)
    out["logged"] = {}
    for name, mask in (("all_stage", np.ones(len(label), dtype=bool)), ("coarse", t["prerank_neg"] == 0),
                       ("rank", (t["prerank_neg"] == 0) & (t["coarse_neg"] == 0))):
        out["logged"][name] = _ranked(t["request_id"][mask], label[mask], s[mask], ks)
    return out


def evaluate_retrieval(funnel: Funnel, model: SASRec, *, ks: tuple[int, ...] = RETRIEVAL_KS,
                       truth_k: int = 100) -> dict[str, Any]:
    """Recall/NDCG@K of the retrieval test table's effective views in the model's exact top-K over the exposed
    corpus, as the released evaluation (every request with a positive counts; a positive outside the top-K is a
    miss)."""
    test = funnel.test_table("retrieval")
    reqs, inv = np.unique(test["request_id"], return_inverse=True)
    items = funnel.corpus()
    dev = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        hist, mask = histories(funnel, funnel.test_day, reqs)
        u = model.user_vector(hist.to(dev), mask.to(dev)).cpu().numpy()
        v = model.item_vector(torch.as_tensor(items).to(dev)).cpu().numpy()
    model.train()
    truth_k = min(truth_k, len(items))
    _, top = topk(u, v, min(max(max(ks), truth_k), len(items)))
    pos = np.flatnonzero(test["effective_view"] == 1)
    ranks = ranks_in_top(items[top, 0], inv[pos], test["video_id"][pos])
    out: dict[str, Any] = {"test_day": funnel.test_day, "file": str(funnel.test_path("retrieval")),
                           "corpus": len(items), "requests_in_table": len(reqs),
                           **from_ranks(inv[pos], ranks, ks).as_dict()}
    truth = funnel.root / "_hidden" / "truth.npz"
    if truth.exists():
        out["truth_recall"] = hidden_truth_recall(truth, test["user_id"][np.unique(inv, return_index=True)[1]],
                                                  items[:, 0], top[:, :truth_k], truth_k)
    return out


def hidden_truth_recall(path: Path, users: np.ndarray, videos: np.ndarray, top: np.ndarray, k: int) -> float:
    """Mean share of each request's user's true top-k videos (hidden affinity, within the corpus) found in the
    model's top-k (``top``: corpus positions). IDs arrive shifted: the hidden arrays are 0-based."""
    z = np.load(path)
    a = z["alpha"] * (z["u"][users - 1] @ z["v"][videos - 1].T) + z["quality"][videos - 1]
    true = np.argpartition(-a, k - 1, axis=1)[:, :k]
    return float(np.mean([len(set(t.tolist()) & set(m.tolist())) / k for t, m in zip(true, top, strict=True)]))


def cascade_scores(requests: np.ndarray, first: np.ndarray, second: np.ndarray, m1: int) -> np.ndarray:
    """The second stage's scores where the first stage kept the item (its top ``m1`` within the request), -inf
    where it dropped it: ranking by this is the two-stage cascade's final order."""
    requests = np.asarray(requests)
    order = np.lexsort((-np.asarray(first, dtype=np.float64), requests))
    starts = np.flatnonzero(np.r_[True, requests[order][1:] != requests[order][:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    kept = np.empty(len(order), dtype=bool)
    kept[order] = rank < m1
    return np.where(kept, np.asarray(second, dtype=np.float64), -np.inf)


def evaluate_cascade(funnel: Funnel, coarse: torch.nn.Module, rank: torch.nn.Module, *, m1: int = 60,
                     candidates: str = "official", ks: tuple[int, ...] = (10,), ms: tuple[int, ...] = (10, 20)
                     ) -> dict[str, Any]:
    """Recall@k@m over the test day's requests on the coarse stage's candidates (the coarse test table, or the
    logged rows that entered coarse ranking); truth = the request's effective views. Reported for the cascade
    (coarse keeps m1, rank picks m) and for each model alone over all the candidates."""
    if candidates == "official":
        t, rows = funnel.test_table("coarse"), None
        truth = t["effective_view"] == 1
    else:
        t = funnel.day(funnel.test_day)
        rows = np.flatnonzero(t["prerank_neg"] == 0)
        truth = ((t["realshow"] * t["effective_view"]) == 1)[rows]
    req = t["request_id"] if rows is None else t["request_id"][rows]
    s1, s2 = score(funnel, coarse, t, rows), score(funnel, rank, t, rows)
    joint = cascade_scores(req, s1, s2, m1)
    out: dict[str, Any] = {"test_day": funnel.test_day, "candidates": candidates, "m1": m1,
                           "candidates_per_request": float(len(req) / max(len(np.unique(req)), 1))}
    for name, sc in (("cascade", joint), ("coarse_alone", s1), ("rank_alone", s2)):
        out[name] = {f"recall@{k}@{m}": recall_k_m(req, truth, sc, k=k, m=m)["recall"] for k in ks for m in ms}
    r = recall_k_m(req, truth, joint, k=ks[0], m=ms[0])
    out["requests"], out["skipped_no_positive"] = r["requests"], r["skipped"]
    return out
