"""RLHF sweep settings (Hou et al., arXiv:2412.06000). The paper released no configs; the
defaults are a CPU-scale toy (README, RLHF): a tiny policy, the rule reward on synthetic arithmetic, GRPO,
n in {1, 2, 4, 8, 16}, 3 seeds, one axis varied at a time around the base point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class PointSettings:
    """One grid point: every value that can change a result (held-fixed ones are recorded too)."""

    policy: str = option("tiny-llama-s", "Policy: tiny-llama-s / tiny-llama-m (transformers.LlamaConfig), smollm2, "
                         "or hf:<path>")
    reward: Literal["rule", "rm-bt", "rm-s", "rm-m"] = option(
        "rule", "Reward: rule (exact match), rm-bt (Bradley-Terry head on frozen MiniLM), rm-s / rm-m (tiny Llama "
        "RMs of the two policy sizes, fine-tuned with TRL's RewardTrainer)")
    rm_prompts: int = option(1000, "Preference prompts the reward model is trained on (learned RMs only; one pair "
                             "per distinct wrong sample of 4)", ge=1)
    task: Literal["addition", "reverse", "sort_letters"] = option(
        "addition", "Synthetic task: addition, reverse, sort_letters")
    task_size: int = option(2, "Digits (addition) or letters (string tasks)", ge=1)
    n: int = option(4, "Samples per prompt (GRPO group size; paper grid about 1-16; GRPO/RLOO need >= 2)", ge=1)
    algorithm: Literal["grpo", "rloo", "reinforce"] = option(
        "grpo", "RL algorithm: grpo, rloo (TRL) or reinforce (n = 1, batch baseline); GRPO/RLOO at n = 1 run "
        "REINFORCE instead, with a warning (TRL 1.16 has no PPO trainer)")
    prompts: int = option(256, "RL training prompts", ge=1)
    prompts_per_step: int = option(4, "Prompts per optimisation step (each with n samples): the number of steps is "
                                   "the same for every n, a larger n spends more samples per step, as in the paper",
                                       ge=1)
    kl: float = option(0.0, "KL coefficient to the reference (SFT) policy (TRL's GRPO default: 0)", ge=0)
    lr: float = option(1e-4, "Policy learning rate (tiny policies; the paper's is not published)", gt=0)
    epochs: int = option(2, "Passes over the RL prompts", ge=1)
    seed: int = option(0, "Seed of this point's RL (prompts, sampling)", ge=0)
    sft_seed: int = option(0, "Seed of the SFT policy and reward model (artifacts shared by the RL seeds, so the "
                           "seeds measure the RL's own variance)", ge=0)


@dataclass
class SweepConfig:
    base: PointSettings = field(default_factory=PointSettings)
    grid: dict[str, list] = option({"n": [2, 4, 8, 16]}, "Axis -> values, e.g. {n: [1, 2, 4, 8, 16], reward: "
                                   "[rule, rm-bt]}")
    mode: Literal["one_at_a_time", "product"] = option("one_at_a_time", "Vary one axis at a time around the base "
                                                        "point (default, attributable), or every combination")
    seeds: list[int] = option([0, 1, 2], "Seeds per point (>= 3 for intervals)", ge=0)
    eval_prompts: int = option(200, "Held-out evaluation prompts", ge=1)
    workers: int = option(1, "Grid points in flight (processes locally, Ray under --ray)", ge=1)
