"""FS-LTR lists for DSSM and DIN: groups, caps and priorities pinned on a hand-written request; the pair weights
(DSSM: pairs against coarse_neg off; DIN: four BPR groups by the higher item) and the loss by hand; both models
train on lists and still evaluate."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from labkit.recflow.fsltr import LIST_LEN, pair_weights, priority_loss, request_lists, row_groups


def table(flags: dict[str, list[int]], request: list[int]) -> dict[str, np.ndarray]:
    n = len(request)
    base = {k: np.zeros(n, dtype=np.int64) for k in ("realshow", "effective_view", "rerank_pos", "rerank_neg",
                                                      "rank_pos", "rank_neg", "coarse_neg", "prerank_neg")}
    base.update({k: np.array(v) for k, v in flags.items()})
    return {"request_id": np.array(request), **base}


def test_lists_take_the_most_advanced_group_with_the_caps() -> None:
    # request 1: 8 clicked exposures (cap 6), one unclicked exposure, 12 coarse_neg (cap 10), 3 prerank_neg only
    n = 8 + 1 + 12 + 3
    shown = [1] * 9 + [0] * 15
    t = table({"realshow": shown, "rerank_pos": shown, "rank_pos": shown, "effective_view": [1] * 8 + [0] * 16,
               "coarse_neg": [0] * 9 + [1] * 12 + [0] * 3, "prerank_neg": [0] * 21 + [1] * 3}, [1] * n)
    assert row_groups(t).tolist() == [0] * 8 + [1] + [6] * 12 + [-1] * 3
    rows, prio = request_lists(t, np.random.default_rng(0))
    assert rows.shape == (1, LIST_LEN) == prio.shape and LIST_LEN == 62
    assert prio[0].tolist() == [6] * 6 + [5] + [2] * 10 + [0] * 45
    assert set(rows[0, :6]) <= set(range(8)) and rows[0, 6] == 8 and set(rows[0, 7:17]) <= set(range(9, 21))
    assert (rows[0, 17:] == -1).all()


def test_pair_weights_and_loss_by_hand() -> None:
    prio = torch.tensor([[6, 5, 2, 0]])
    dssm = pair_weights(prio, "dssm")[0]
    assert dssm.tolist() == [[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]  # coarse_neg pairs: weight 0
    din = pair_weights(prio, "din")[0]
    assert din.tolist() == [[0, 1.0, 1.0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    s = torch.tensor([[2.0, 1.0, 0.0, 9.0]])  # the empty slot's score never counts
    sp = lambda x: math.log1p(math.exp(-x))  # noqa: E731 - -log sigmoid(x)
    assert priority_loss(s, prio, "dssm").item() == pytest.approx(sp(1.0))
    assert priority_loss(s, prio, "din").item() == pytest.approx((sp(1.0) + sp(2.0) + 0.5 * sp(1.0)) / 3)
    assert priority_loss(s, torch.zeros_like(prio), "din").item() == 0.0


def test_dssm_and_din_train_on_lists(tmp_path) -> None:
    from labkit.recflow.data import Funnel
    from labkit.recflow.eval import evaluate_ranker
    from labkit.recflow.generate import generate
    from labkit.recflow.train import TrainSettings, train_ranker

    generate(tmp_path / "funnel", users=60, days=3, videos=600, seed=3)
    root = Funnel(tmp_path / "funnel")
    for model in ("dssm", "din"):
        logged = []
        trained = train_ranker(root, TrainSettings(model=model, strategy="fsltr"), tmp_path / model,
                               log=logged.append)
        assert len(logged) == 2 and all(r["rows"] > 0 and np.isfinite(r["loss"]) for r in logged)
        m = evaluate_ranker(root, trained, "coarse")
        assert 0 <= m["test_table"]["recall"]["100"] <= 1 and m["test_table"]["requests"] > 0
