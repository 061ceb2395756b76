"""The auxiliary BPR's explicit validity mask: the loss is non-zero whenever valid stage items exist, unexposed
(effective_view 0) stage items do not switch it off - the original's column-7 mask would have - and padded slots
never count."""

from __future__ import annotations

import numpy as np
import torch

from labkit.recflow.auxiliary import AUX_STAGES, aux_candidates, bpr
from labkit.recflow.data import Funnel
from labkit.recflow.eval import evaluate_ranker
from labkit.recflow.train import TrainSettings, train_ranker


def _stage(videos: list[int]) -> np.ndarray:
    arr = np.zeros((len(videos), 8), dtype=np.int64)
    arr[:, 0] = videos
    arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5] = 2, 30_000, 3, 1, 1_704_000_000
    return arr  # column 7 (effective_view) is 0: none of them was watched


def test_unexposed_stage_items_keep_the_loss_alive() -> None:
    stages = {7: {s: _stage([10 + i, 20 + i]) for i, s in enumerate(AUX_STAGES)}, 8: {}}
    stages[7]["rank_neg"] = _stage(list(range(100, 125)))  # 25 items: 10 kept
    req = np.array([7, 7, 8])
    items, valid = aux_candidates(stages, req, np.array([10, 11, 12]), np.array([True, False, True]),
                                  np.random.default_rng(0))
    # row 0: rerank_pos loses its own video (10) -> 1 + 2 + 2 + 10 = 15 valid; row 1 is not positive; row 2 has none
    assert valid.sum(1).tolist() == [15, 0, 0] and items.shape == (3, 40, 8)
    assert not (items[0, :, 0] == 10).any() and (items[0][~valid[0]] == 0).all()
    original_mask = np.concatenate([stages[7][s][:, 7] for s in AUX_STAGES]) > 0
    assert original_mask.sum() == 0  # the released code's mask: every one of these would be dropped
    pos, cand = torch.tensor([0.3, 0.1, 0.2]), torch.zeros(3, 40)
    loss = bpr(pos, cand, valid)
    assert loss > 0 and torch.isclose(loss, torch.nn.functional.softplus(torch.tensor(-0.3)))
    assert bpr(pos, cand, torch.zeros_like(valid)) == 0


def test_aux_strategy_trains_the_bpr_term(tmp_path, monkeypatch) -> None:
    """On a generated funnel the auxiliary term is live (positives with valid stage items in every training
    batch that has a positive), it changes what is learnt (other weights than the plain run with the same seed),
    and the trained model evaluates to finite metrics."""
    from labkit.recflow import train as train_module
    from labkit.recflow.generate import generate

    root = tmp_path / "f"
    generate(root, users=60, days=2, videos=600, seed=3)
    funnel = Funnel(root)
    terms: list[tuple[float, int]] = []

    def spy(pos, cand, valid):
        out = bpr(pos, cand, valid)
        terms.append((float(out), int(valid.sum())))
        return out

    monkeypatch.setattr(train_module, "bpr", spy)
    aux = train_ranker(funnel, TrainSettings(strategy="aux"), tmp_path / "ck-aux")
    plain = train_ranker(funnel, TrainSettings(), tmp_path / "ck-plain")
    assert terms and sum(v > 0 for _, v in terms) >= len(terms) // 2  # stage items reach most batches
    assert all(t > 0 for t, v in terms if v > 0) and all(t == 0 for t, v in terms if v == 0)
    shared = [k for k in plain.state_dict() if k in aux.state_dict()]
    assert shared and any(not torch.equal(aux.state_dict()[k], plain.state_dict()[k]) for k in shared)
    m = evaluate_ranker(funnel, aux, "coarse")
    assert 0 <= m["test_table"]["recall"]["100"] <= 1 and np.isfinite(m["test_table"]["ndcg"]["100"])


def test_request_context_joins_each_behaviours_own_request() -> None:
    from labkit.recflow.features import add_context, build
    from labkit.recflow.models import DIN, DINContext
    from labkit.recflow.schema import COLUMNS

    ubm = {501: {"rank_pos": _stage([40, 41, 42])}, 502: {"rank_pos": _stage(list(range(60, 75)))}}
    hist_req = np.array([[0] * 47 + [501, 502, 999]])
    valid = np.array([[False] * 47 + [True, True, True]])
    t = {c: np.zeros(2, dtype=np.int64) for c in COLUMNS}
    t["request_id"], t["request_timestamp"] = np.array([5, 5]), np.full(2, 1_705_104_000_000)
    feats = add_context(build(t, {}, np.zeros(2)), hist_req, valid, ubm)
    assert feats.ctx_mask[0].sum(1)[-3:].tolist() == [3, 10, 0]  # 3 rank_pos, capped at 10, unknown request none
    assert feats.ctx[0, 47, :3, 0].tolist() == [40, 41, 42] and not feats.ctx_mask[0, :47].any()
    sizes = {f: 80 for f in ("user_id", "device_id", "age", "gender", "province", "video_id", "author_id",
                             "category_level_one", "category_level_two", "upload_type")}
    torch.manual_seed(0)
    din, ctx_model = DIN(sizes), DINContext(sizes)
    ctx_model.load_state_dict(din.state_dict())
    b = feats.batch(torch.arange(2))
    b["ctx_mask"] = torch.zeros_like(b["ctx_mask"])  # no context: exactly DIN
    with torch.no_grad():
        assert torch.allclose(din(b), ctx_model(b))
