"""Coarse ranking on the synthetic funnel: a run killed after a day resumes to the same model; the stage-sample
effects, 3 seeds each, sizes printed: DSSM trained with one rank_neg per request beats exposure-only BCE on
Recall@100 over all logged test candidates; SASRec with a hard (same-request prerank_neg) negative beats random
negatives on hidden-truth recall."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labkit.recflow.data import Funnel
from labkit.recflow.eval import evaluate_ranker
from labkit.recflow.generate import generate
from labkit.recflow.train import TrainSettings, coarse_rows, train_ranker


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("rf")
    generate(root, users=80, days=3, videos=800, seed=2)
    return Funnel(root)


def test_resume_by_day_gives_the_same_model(small, tmp_path) -> None:
    days = small.days[:2]
    s = TrainSettings(strategy="sampling", seed=1)
    whole = train_ranker(small, s, tmp_path / "whole", days=days)
    train_ranker(small, s, tmp_path / "killed", days=days[:1])  # as if killed after the first day
    resumed = train_ranker(small, s, tmp_path / "killed", days=days)
    for (k, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_strategies_pick_the_papers_rows(small) -> None:
    t = small.day(small.days[0])
    rng = np.random.default_rng(0)
    n_req = len(np.unique(t["request_id"]))
    bce, _ = coarse_rows(t, "bce", rng)
    samp, lab = coarse_rows(t, "sampling", rng)
    allr, _ = coarse_rows(t, "all", rng)
    assert (t["realshow"][bce] == 1).all() and len(samp) == len(bce) + n_req and lab[len(bce):].sum() == 0
    assert len(allr) == len(bce) + int(((t["rank_neg"] == 1) & (t["realshow"] == 0)).sum())


@pytest.fixture(scope="module")
def funnel600(tmp_path_factory):
    root = tmp_path_factory.mktemp("rf600")
    generate(root, users=600, days=4, seed=0)
    return Funnel(root)


@pytest.mark.slow
@pytest.mark.heavy  # an outcome of training (the strategies' mechanics are pinned by the tests around it)
def test_rank_neg_sampling_beats_exposure_only_bce(funnel600, tmp_path) -> None:
    root = funnel600
    diffs = []
    for seed in range(3):
        models = {st: train_ranker(root, TrainSettings(strategy=st, seed=seed), tmp_path / f"{st}{seed}")
                  for st in ("bce", "sampling")}
        r = {st: evaluate_ranker(root, m, "coarse", candidates="logged")["logged"]["all_stage"]["recall"]["100"]
             for st, m in models.items()}
        diffs.append(r["sampling"] - r["bce"])
    print(f"Recall@100 (all stages), sampling - bce per seed: {[round(d, 4) for d in diffs]}")
    assert np.mean(diffs) > 0.01 and min(diffs) > 0, diffs


@pytest.mark.slow
@pytest.mark.heavy  # an outcome of training; test_hard_negatives_are_same_request_prerank_negs... pins the mechanics
def test_hard_negative_sasrec_beats_random_negatives_on_hidden_truth(funnel600, tmp_path) -> None:
    """One same-request prerank_neg among the 200 negatives (the paper's variant): measured +0.0034 / +0.0057 /
    +0.0036 hidden-truth recall on seeds 0-2 (random about 0.24): small, but on every seed."""
    from labkit.recflow.eval import evaluate_retrieval
    from labkit.recflow.retrieval import RetrievalSettings, train_retrieval

    diffs = []
    for seed in range(3):
        r = {neg: evaluate_retrieval(funnel600, train_retrieval(
            funnel600, RetrievalSettings(negatives=neg, batch=256, lr=1e-2, seed=seed), tmp_path / f"{neg}{seed}")
        )["truth_recall"] for neg in ("random", "hard")}
        diffs.append(r["hard"] - r["random"])
    print(f"hidden-truth recall, hard - random per seed: {[round(d, 4) for d in diffs]}")
    assert min(diffs) > 0, diffs


def test_hard_negatives_are_same_request_prerank_negs_and_retrieval_evaluates(small, tmp_path) -> None:
    from labkit.recflow.eval import evaluate_retrieval
    from labkit.recflow.retrieval import RetrievalSettings, day_examples, train_retrieval

    day = small.days[0]
    t = small.day(day)
    s = RetrievalSettings(negatives="hard", n_hard=3, n_neg=20)
    ex = day_examples(small, day, t, s, np.random.default_rng(0))
    pos = np.flatnonzero((t["realshow"] == 1) & (t["effective_view"] == 1))
    for j in range(5):
        rows = (t["request_id"] == t["request_id"][pos[j]]) & (t["prerank_neg"] == 1)
        stage = {tuple(x) for x in np.stack([t["video_id"][rows], t["author_id"][rows],
                                             t["category_level_two"][rows]], 1).tolist()}
        assert all(tuple(x) in stage for x in ex["neg"][j, :3].tolist())
    model = train_retrieval(small, RetrievalSettings(batch=256, lr=0.01), tmp_path / "r")
    m = evaluate_retrieval(small, model, ks=(50, 100))
    assert m["requests"] > 0 and 0 <= m["recall"]["50"] <= m["recall"]["100"] <= 1
    assert 0 <= m["truth_recall"] <= 1


def test_din_ranks_with_empty_histories_and_the_rank_metrics(small, tmp_path) -> None:
    model = train_ranker(small, TrainSettings(task="rank", model="din", strategy="sampling"), tmp_path / "din")
    m = evaluate_ranker(small, model, "rank")
    t = m["test_table"]
    assert t["file"].endswith("rank_test.feather") and t["candidates_per_request"] == 120
    assert t["requests"] > 0 and 0 <= t["recall"]["50"] <= 1 and np.isfinite(m["logloss"])



def test_din_auxiliary_head_trains_and_din_still_ranks(small, tmp_path) -> None:
    from labkit.recflow.models import DINAux

    torch.manual_seed(0)
    sizes = small.sizes
    fresh = DINAux(sizes, 8)
    start = {k: v.clone() for k, v in fresh.state_dict().items()}
    model = train_ranker(small, TrainSettings(model="din", strategy="aux"), tmp_path / "din-aux")
    assert isinstance(model, DINAux)
    moved = {k for k, v in model.state_dict().items() if not torch.equal(v, start[k])}
    assert any(k.startswith("user_tower") for k in moved) and any(k.startswith("top") for k in moved)
    m = evaluate_ranker(small, model, "coarse")  # ranked by DIN's own logit
    assert m["test_table"]["requests"] > 0 and np.isfinite(m["auc"])


def test_list_loss_by_hand() -> None:
    from labkit.recflow.retrieval import list_loss

    sp = torch.tensor([[1.0]])
    sn = torch.tensor([[0.5, 0.0, 2.0]])
    plain = list_loss(sp, sn, torch.zeros(1, 3, dtype=torch.long))
    f = torch.nn.functional.softplus
    assert torch.isclose(plain, (f(torch.tensor(-0.5)) + f(torch.tensor(-1.0)) + f(torch.tensor(1.0))) / 3)
    # priorities 6 (positive), 5, 0, 1: pairs 6>5, 6>0, 6>1, 5>0, 5>1, 1>0
    ranked = list_loss(sp, sn, torch.tensor([[5, 0, 1]]))
    terms = [f(torch.tensor(a - b)) for b, a in ((1.0, 0.5), (1.0, 0.0), (1.0, 2.0), (0.5, 0.0), (0.5, 2.0),
                                                  (2.0, 0.0))]
    assert torch.isclose(ranked, sum(terms) / 6)


def test_a_checkpoint_with_a_non_finite_weight_is_refused(tmp_path) -> None:
    """A flipped bit in a weight can read as NaN: evaluating it would score every candidate as garbage."""
    import torch

    from labkit.core.errors import DataError
    from labkit.recflow.train import read_checkpoint

    good = {"model": {"w": torch.ones(3), "steps": torch.tensor(4)}, "opt": {}, "next_day": 1}
    torch.save(good, tmp_path / "ok.pt")
    assert read_checkpoint(tmp_path / "ok.pt")["next_day"] == 1
    torch.save({**good, "model": {"w": torch.tensor([1.0, float("nan"), 0.0])}}, tmp_path / "nan.pt")
    with pytest.raises(DataError, match=r"nan.pt.*'w' is not a finite tensor"):
        read_checkpoint(tmp_path / "nan.pt")
