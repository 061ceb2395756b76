"""RL pieces pinned on hand-computed values: the batch leave-one-out baseline of REINFORCE at n = 1, the
completion mask, the exact KL to the reference, preference pairs from rule-labelled samples, the paper's
findings on fixture records."""

from __future__ import annotations

import pytest

from labkit.rlhf import reward as reward_mod
from labkit.rlhf.analysis import findings
from labkit.rlhf.tasks import Prompt

torch = pytest.importorskip("torch")


def test_batch_leave_one_out_advantages() -> None:
    from labkit.rlhf.rl import batch_loo_advantages

    got = batch_loo_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]))
    assert torch.allclose(got, torch.tensor([1.0, -1 / 3, -1 / 3, -1 / 3]))
    assert torch.equal(batch_loo_advantages(torch.tensor([0.5, 0.5, 0.5])), torch.zeros(3))


def test_completion_mask_stops_after_the_first_eos() -> None:
    from labkit.rlhf.rl import completion_mask

    got = completion_mask(torch.tensor([[5, 6, 2, 0, 0], [5, 2, 7, 2, 0], [5, 6, 7, 8, 9]]), eos_id=2)
    assert got.tolist() == [[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]]


def test_kl_to_reference_is_zero_to_itself_and_positive_to_another_model() -> None:
    from labkit.rlhf.policy import char_tokenizer, tiny_llama
    from labkit.rlhf.rl import kl_to_reference
    from labkit.rlhf.tasks import make_prompts

    tok = char_tokenizer()
    a, b = tiny_llama("tiny-llama-s", len(tok), 0), tiny_llama("tiny-llama-s", len(tok), 1)
    prompts = make_prompts("addition", "eval", 6, size=2)
    assert kl_to_reference(a, a, tok, prompts) == pytest.approx(0.0, abs=1e-6)
    assert kl_to_reference(a, b, tok, prompts) > 0.01


def test_preference_pairs_chosen_passes_rejected_fails_and_all_correct_prompts_are_counted(monkeypatch) -> None:
    prompts = [Prompt("addition", "q1", "5", "2+3="), Prompt("addition", "q2", "7", "3+4="),
               Prompt("addition", "q3", "9", "4+5=")]
    outs = [["5", "6", "6", "4"], ["8", "1", "8", "8"], ["9", "9", "9", "9"]]
    monkeypatch.setattr(reward_mod, "sample", lambda *a, **k: outs)
    pairs, skipped = reward_mod.preference_pairs(None, None, prompts, samples=4, temperature=1.0, seed=0)
    assert skipped == 1
    assert pairs == [{"prompt": "2+3=", "chosen": "5", "rejected": "6"},
                     {"prompt": "2+3=", "chosen": "5", "rejected": "4"},  # one pair per distinct wrong sample
                     {"prompt": "3+4=", "chosen": "7", "rejected": "8"},  # none right: the reference answer
                     {"prompt": "3+4=", "chosen": "7", "rejected": "1"}]


def record(axis, gain, **settings):
    return {"axis": axis, "gain": gain, "settings": {"n": 4, "reward": "rule", "policy": "tiny-llama-s", **settings}}


def test_findings_on_fixture_records() -> None:
    rows = [record(None, 0.20), record("n", 0.00, n=1), record("n", 0.25, n=8), record("n", 0.28, n=16),
            *[record("reward", g, reward="rm-s") for g in (0.10, 0.12, 0.11)],
            *[record("reward", g, reward="rm-m") for g in (0.09, 0.13, 0.10)]]
    concave, rm, policy = findings(rows)
    assert concave["consistent"] is True and "1->4 +0.200, 8->16 +0.030" in concave["evidence"]
    assert rm["consistent"] is True and "-0.003" in rm["evidence"]  # 0.1067 vs 0.11: within the seeds' noise
    assert policy["consistent"] is None and "needs policy" in policy["evidence"]
    steep = rows[:3] + [record("n", 0.40, n=16)]  # 8 -> 16 gains 0.15, not under half of 0.20
    assert findings(steep)[0]["consistent"] is False
    hurt = rows[:4] + [record("reward", g, reward="rm-s") for g in (0.10, 0.12, 0.11)] + \
        [record("reward", g, reward="rm-m") for g in (0.00, 0.01, 0.00)]
    assert findings(hurt)[1]["consistent"] is False
