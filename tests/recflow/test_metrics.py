"""Metrics against hand-computed values: Recall@K, the original (unnormalised) and normalised NDCG@K with the
skipped requests counted, GAUC, Recall@k@m and its cascade form; AUC equals scikit-learn's; faiss top-K equals
brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from labkit.recflow.metrics import auc_logloss, gauc, ranking, recall_k_m, topk

G2, G4 = 1 / math.log2(3), 1 / math.log2(5)


def test_recall_and_ndcg_in_all_three_forms_by_hand() -> None:
    # requests interleaved on purpose: A (2 positives of 4), B (none), C (all positive), D (1 of 2)
    req = np.array(["A", "B", "A", "C", "D", "A", "D", "A", "B", "C"])
    y = np.array([0, 0, 1, 1, 1, 0, 0, 1, 0, 1])
    s = np.array([0.9, 0.3, 0.8, 0.5, 0.1, 0.7, 0.5, 0.6, 0.2, 0.4])
    r = ranking(req, y, s, ks=(2, 4))  # A's positives rank 1 and 3, D's rank 1
    assert (r.requests, r.positives, r.skipped_no_positive, r.skipped_all_positive) == (2, 3, 1, 1)
    # the released form: sums over requests / all 3 positives
    assert r.recall[2] == pytest.approx(2 / 3) and r.recall[4] == pytest.approx(1.0)
    assert r.ndcg[2] == pytest.approx(2 * G2 / 3) and r.ndcg[4] == pytest.approx((2 * G2 + G4) / 3)
    # per request, then averaged
    assert r.recall_per_request[2] == pytest.approx((0.5 + 1) / 2)
    assert r.ndcg_per_request[2] == pytest.approx((G2 / 2 + G2) / 2)
    assert r.ndcg_per_request[4] == pytest.approx(((G2 + G4) / 2 + G2) / 2)
    a2, a4 = G2 / (1 + G2), (G2 + G4) / (1 + G2)  # A's DCG over its ideal DCG (2 hits at ranks 0, 1)
    assert r.ndcg_normalised[2] == pytest.approx((a2 + G2) / 2)
    assert r.ndcg_normalised[4] == pytest.approx((a4 + G2) / 2)


def _released_loop(req, y, s, ks):
    """The released evaluation's arithmetic written out plainly (one request at a time, sums over requests
    divided by the total number of positives), to compare with the vectorised ``ranking``."""
    hits, dcg, total = dict.fromkeys(ks, 0.0), dict.fromkeys(ks, 0.0), 0.0
    for r in dict.fromkeys(req.tolist()):
        m = req == r
        label, score = y[m], s[m]
        if 0 < label.sum() < len(label):
            pos_rank = np.argsort(np.argsort(-score, kind="stable"), kind="stable")[label == 1]
            for k in ks:
                hits[k] += np.sum(pos_rank < k)
                dcg[k] += np.sum((pos_rank < k) / np.log2(pos_rank + 2))
            total += label.sum()
    return {k: hits[k] / total for k in ks}, {k: dcg[k] / total for k in ks}


def test_the_released_form_equals_a_plain_loop_on_random_lists() -> None:
    rng = np.random.default_rng(4)
    n = 5000
    req = rng.integers(0, 300, n)
    y = (rng.random(n) < rng.random(300)[req] * 0.3).astype(int)
    y[req < 5] = 1  # a few requests with only positives
    s = rng.normal(size=n)
    r = ranking(req, y, s, ks=(1, 5, 20))
    recall, ndcg = _released_loop(req, y, s, (1, 5, 20))
    for k in (1, 5, 20):
        assert r.recall[k] == pytest.approx(recall[k], abs=1e-12) and r.ndcg[k] == pytest.approx(ndcg[k], abs=1e-12)
    assert r.skipped_all_positive == 5


def test_retrieval_ranks_count_misses_in_the_denominator() -> None:
    from labkit.recflow.metrics import from_ranks, ranks_in_top

    top = np.array([[7, 3, 9], [1, 2, 3]])  # two requests' retrieved videos, best first
    ranks = ranks_in_top(top, np.array([0, 0, 1]), np.array([9, 5, 1]))  # video 5 was not retrieved
    assert ranks.tolist() == [2, np.inf, 0]
    r = from_ranks(np.array([0, 0, 1]), ranks, ks=(1, 3))
    assert r.recall[1] == pytest.approx(1 / 3) and r.recall[3] == pytest.approx(2 / 3)
    assert r.recall_per_request[3] == pytest.approx((1 / 2 + 1) / 2) and r.ndcg[3] == pytest.approx((0.5 + 1) / 3)


def test_gauc_by_hand_and_auc_equals_sklearn() -> None:
    users = np.array([1, 1, 1, 2, 2, 3, 3])
    y = np.array([1, 0, 0, 0, 1, 1, 1])
    s = np.array([0.9, 0.5, 0.95, 0.2, 0.3, 0.1, 0.2])
    g = gauc(users, y, s)
    assert g["gauc"] == pytest.approx((3 * 0.5 + 2 * 1.0) / 5) and (g["groups"], g["skipped"]) == (2, 1)
    m = auc_logloss(y, s)
    assert m["auc"] == roc_auc_score(y, s) and m["rows"] == 7
    assert m["logloss"] == pytest.approx(-np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)))


def test_recall_k_m_by_hand() -> None:
    req = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2])
    truth = np.array([1, 1, 1, 0, 0, 0, 1, 0, 0])
    s = np.array([0.9, 0.1, 0.2, 0.8, 0.3, 0.5, 0.4, 0.6, 0.7])
    out = recall_k_m(req, truth, s, k=3, m=2)  # request 0: 1 of 3 in the top 2; request 1: 0 of 1; request 2 none
    assert out["recall"] == pytest.approx((1 / 3 + 0) / 2) and (out["requests"], out["skipped"]) == (2, 1)


def test_cascade_recall_k_m_by_hand() -> None:
    from labkit.recflow.eval import cascade_scores

    req = np.array([0, 0, 0, 0, 1, 1, 1])
    truth = np.array([1, 0, 1, 0, 0, 1, 0])
    first = np.array([0.9, 0.8, 0.1, 0.7, 0.3, 0.2, 0.1])  # keeps the top 2 per request
    second = np.array([0.1, 0.9, 0.8, 0.5, 0.9, 0.1, 0.8])
    joint = cascade_scores(req, first, second, m1=2)
    assert np.isneginf(joint[[2, 3, 6]]).all() and joint[[0, 1, 4, 5]].tolist() == [0.1, 0.9, 0.9, 0.1]
    # request 0: the first stage dropped item 2 (a positive), the second ranks item 1 over item 0 -> top 1 misses;
    # request 1: item 5 survives but ranks under item 4
    assert recall_k_m(req, truth, joint, k=2, m=1)["recall"] == 0.0
    assert recall_k_m(req, truth, joint, k=2, m=2)["recall"] == pytest.approx((1 / 2 + 1 / 1) / 2)
    assert recall_k_m(req, truth, second, k=2, m=2)["recall"] == pytest.approx((1 / 2 + 0) / 2)  # rank alone


def test_faiss_topk_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    q, x = rng.normal(size=(7, 8)), rng.normal(size=(500, 8))
    (sf, i_f), (sn, i_n) = topk(q, x, 20), topk(q, x, 20, backend="numpy")
    assert np.array_equal(i_f, i_n) and np.allclose(sf, sn, atol=1e-5)


def test_batched_prediction_keeps_every_row() -> None:
    import torch

    from labkit.recflow.features import build
    from labkit.recflow.models import DSSM
    from labkit.recflow.schema import COLUMNS
    from labkit.recflow.train import predict

    rng = np.random.default_rng(0)
    n = 1031  # not a multiple of the batch
    t = {c: rng.integers(0, 5, n) for c in COLUMNS}
    t["request_id"] = np.sort(rng.integers(0, 97, n))
    t["request_timestamp"] = 1_705_104_000_000 + t["request_id"] * 1000
    for f in ("user_id", "device_id", "age", "gender", "province"):  # one user per request, as in the data
        t[f] = t["request_id"] % 5
    t["duration"] = rng.integers(5000, 9000, n)
    t["upload_timestamp"] = np.full(n, 1_704_000_000)
    feats = build(t, {}, np.zeros(n))
    torch.manual_seed(0)
    sizes = {f: 6 for f in ("user_id", "device_id", "age", "gender", "province", "video_id", "author_id",
                            "category_level_one", "category_level_two", "upload_type")}
    model = DSSM(sizes)
    small, whole = predict(model, feats, batch=100), predict(model, feats, batch=5000)
    with torch.no_grad():
        direct = model(feats.batch(torch.arange(n))).numpy()
    assert len(small) == n and np.allclose(small, whole, atol=1e-5) and np.allclose(small, direct, atol=1e-5)
