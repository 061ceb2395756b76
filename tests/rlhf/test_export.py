"""Export: one grid point's OpenRLHF and verl commands carry the TRL run's n, KL, learning rate and batch sizes."""

import shlex

import pytest

from labkit.rlhf.config import PointSettings
from labkit.rlhf.export import batch_plan, openrlhf_command, verl_command


@pytest.mark.parametrize("n", [2, 4, 8, 16])
def test_engines_get_the_trl_values_in_their_own_names(n: int) -> None:
    s = PointSettings(n=n, kl=0.05, lr=2e-5, epochs=3, seed=7)
    plan = batch_plan(s)
    assert plan == {"completions_per_step": 4 * n, "prompts_per_step": 4}  # steps do not depend on n
    o = shlex.split(openrlhf_command(s))
    flag = {o[i]: o[i + 1] for i in range(3, len(o) - 1) if o[i].startswith("--") and not o[i + 1].startswith("--")}
    assert flag["--n_samples_per_prompt"] == str(n) and flag["--init_kl_coef"] == "0.05"
    assert flag["--actor_learning_rate"] == "2e-05" and flag["--advantage_estimator"] == "group_norm"
    assert flag["--train_batch_size"] == str(plan["completions_per_step"])
    assert flag["--rollout_batch_size"] == str(plan["prompts_per_step"]) and "--use_kl_loss" in o
    v = dict(x.split("=", 1) for x in shlex.split(verl_command(s))[3:])
    assert v["actor_rollout_ref.rollout.n"] == str(n) and v["actor_rollout_ref.actor.kl_loss_coef"] == "0.05"
    assert v["actor_rollout_ref.actor.optim.lr"] == "2e-05" and v["algorithm.adv_estimator"] == "grpo"
    assert v["data.train_batch_size"] == str(plan["prompts_per_step"]) and v["trainer.total_epochs"] == "3"


def test_export_cli(capsys) -> None:
    from pathlib import Path

    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    config = Path(__file__).parents[2] / "configs" / "rlhf" / "tiny.yaml"
    assert main_with_errors(app, ["rlhf", "export", "--engine", "verl", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "actor_rollout_ref.rollout.n=2" in out and out.startswith("# point ")
    assert main_with_errors(app, ["rlhf", "export", "--engine", "deepspeed", "--config", str(config)]) == 2
    capsys.readouterr()
    assert main_with_errors(app, ["rlhf", "export", "--engine", "openrlhf", "--config", str(config), "--set",
                                  "base.algorithm=rloo"]) == 0
    assert "--advantage_estimator rloo" in capsys.readouterr().out
