"""One grid point as a GPU engine's launch command, with the TRL run's values in that engine's names, so a
study sized on CPU runs at scale without a rewrite (README, RLHF). The policy, reward and data
paths are placeholders the user fills in; vLLM does the rollouts in both engines.

- OpenRLHF: ``python -m openrlhf.cli.train_ppo_ray`` with ``--advantage_estimator group_norm`` (GRPO; rloo,
  reinforce for the other algorithms),
  ``--n_samples_per_prompt``, ``--init_kl_coef``, ``--actor_learning_rate``, batch sizes;
- verl: ``python -m verl.trainer.main_ppo`` with ``algorithm.adv_estimator=grpo`` (rloo, reinforce_plus_plus),
  ``actor_rollout_ref.rollout.n``, ``actor_rollout_ref.actor.kl_loss_coef``, ``actor_rollout_ref.actor.optim.lr``,
  ``data.train_batch_size`` (prompts) and ``actor_rollout_ref.actor.ppo_mini_batch_size``.
"""

from __future__ import annotations

import shlex
from typing import Any

from labkit.rlhf.config import PointSettings

MAX_COMPLETION_TOKENS = 8  # the CPU toy's answers are short; raise for real tasks


ESTIMATORS = {"grpo": ("group_norm", "grpo"), "rloo": ("rloo", "rloo"),  # algorithm -> (OpenRLHF, verl)
              "reinforce": ("reinforce", "reinforce_plus_plus")}  # n = 1: the engines' batch-baseline REINFORCE++


def batch_plan(s: PointSettings) -> dict[str, int]:
    """Prompts per optimisation step (fixed across n) and the completions they make (prompts x n)."""
    return {"completions_per_step": s.prompts_per_step * s.n, "prompts_per_step": s.prompts_per_step}


def openrlhf_command(s: PointSettings, *, policy: str = "<policy path>", prompts: str = "<prompt data>") -> str:
    plan = batch_plan(s)
    args: list[tuple[str, Any]] = [
        ("--pretrain", policy), ("--prompt_data", prompts), ("--advantage_estimator", ESTIMATORS[s.algorithm][0]),
        ("--n_samples_per_prompt", s.n), ("--init_kl_coef", s.kl), ("--use_kl_loss", None),
        ("--actor_learning_rate", s.lr), ("--rollout_batch_size", plan["prompts_per_step"]),
        ("--train_batch_size", plan["completions_per_step"]), ("--micro_train_batch_size", 1),
        ("--micro_rollout_batch_size", 1), ("--max_epochs", 1), ("--num_episodes", s.epochs),
        ("--generate_max_len", MAX_COMPLETION_TOKENS), ("--temperature", 0.7), ("--seed", s.seed),
        ("--vllm_num_engines", 1)]
    parts = ["python", "-m", "openrlhf.cli.train_ppo_ray"]
    for flag, value in args:
        parts += [flag] if value is None else [flag, str(value)]
    return shlex.join(parts)


def verl_command(s: PointSettings, *, policy: str = "<policy path>", prompts: str = "<train.parquet>") -> str:
    plan = batch_plan(s)
    overrides = {
        "algorithm.adv_estimator": ESTIMATORS[s.algorithm][1], "data.train_files": prompts,
        "data.train_batch_size": plan["prompts_per_step"], "data.max_response_length": MAX_COMPLETION_TOKENS,
        "actor_rollout_ref.model.path": policy, "actor_rollout_ref.rollout.name": "vllm",
        "actor_rollout_ref.rollout.n": s.n, "actor_rollout_ref.rollout.temperature": 0.7,
        "actor_rollout_ref.actor.optim.lr": s.lr, "actor_rollout_ref.actor.use_kl_loss": True,
        "actor_rollout_ref.actor.kl_loss_coef": s.kl,
        "actor_rollout_ref.actor.ppo_mini_batch_size": plan["prompts_per_step"],
        "trainer.total_epochs": s.epochs}
    return shlex.join(["python", "-m", "verl.trainer.main_ppo"] + [f"{k}={v}" for k, v in overrides.items()])


ENGINES = {"openrlhf": openrlhf_command, "verl": verl_command}
