"""Small judges trained on human scores: the lite judge vs the word-overlap floor on held-out characters,
the character split, and the LoRA judge's score-token training loop."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.character.data import load_all
from labkit.character.lite import character_fold, overlap_recall, split_by_character


def test_overlap_recall_and_split(demo_dir) -> None:
    assert overlap_recall("Lena", "My daughter Lena") == 1.0
    assert overlap_recall("Lena", "nothing") == 0.0
    assert overlap_recall("", "x") == 0.0
    samples, _ = load_all(demo_dir, ("en",))
    train, test = split_by_character(samples * 10, 0.2)
    chars_train = {(samples * 10)[i].character for i in train}
    assert not chars_train & {(samples * 10)[i].character for i in test}
    assert character_fold("Pip", 5) == character_fold("Pip", 5)  # stable, not Python's salted hash


@pytest.mark.slow
@pytest.mark.heavy  # 5 minutes of embedding in CI; the lite judge's mechanics run in `labkit demo`'s test
def test_lite_judge_beats_overlap_on_most_cells(cb_dir) -> None:
    from labkit.character.lite import train_lite
    from labkit.core.models.embed import embed_minilm

    samples, _ = load_all(cb_dir, ("zh",))
    out = train_lite(samples, embed_minilm)
    assert len(out) == 5 and all(v["test"] == 250 for v in out.values())
    wins = [k for k, v in out.items() if v["lite_pearson"] > v["overlap_pearson"]]
    print({k: (round(v["lite_pearson"], 3), round(v["overlap_pearson"], 3)) for k, v in out.items()})
    assert len(wins) >= 3  # measured (zh): 3 of 5; with en as well 7 of 10
    preds = np.concatenate([v["test_pred"] for v in out.values()])
    assert preds.min() >= 1 and preds.max() <= 5


@pytest.mark.slow
def test_lora_judge_steps_move_only_the_adapter_and_scores_stay_on_the_scale(demo_dir) -> None:
    """The mechanics in CI (two steps): finite losses, only LoRA weights change, expected scores in [1, 5]."""
    import torch

    from labkit.character.lora_judge import expected_scores, load_trainable, train_steps

    samples, _ = load_all(demo_dir, ("en",), ["human_likeness"])
    samples = samples[:2]
    model, tok = load_trainable()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    scores_before = expected_scores(model, tok, samples)
    losses = train_steps(model, tok, samples, steps=2, lr=1e-3)
    assert len(losses) == 2 and all(np.isfinite(losses))
    changed = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    assert changed and all("lora_" in n for n in changed)
    after = expected_scores(model, tok, samples)
    assert all(1 <= s <= 5 for s in scores_before + after) and after != scores_before


@pytest.mark.slow
@pytest.mark.heavy  # 6 minutes in CI; the outcome of 36 steps, measured margin below
def test_lora_judge_learns_the_score_tokens(demo_dir) -> None:
    from labkit.character.lora_judge import expected_scores, load_trainable, train_steps

    samples, _ = load_all(demo_dir, ("en",), ["human_likeness"])
    model, tok = load_trainable()
    gold = np.array([s.gold for s in samples], dtype=float)
    before = np.abs(np.array(expected_scores(model, tok, samples)) - gold).mean()
    losses = train_steps(model, tok, samples, steps=36, lr=1e-3)
    after = np.abs(np.array(expected_scores(model, tok, samples)) - gold).mean()
    assert np.mean(losses[-12:]) < np.mean(losses[:12])
    assert after < before - 0.3, (before, after)
