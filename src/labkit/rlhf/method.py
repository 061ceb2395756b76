"""The RLHF sweep (Hou et al., arXiv:2412.06000): every grid point is its own resumable task -
the SFT policy and any learned reward model (artifacts, built once), greedy accuracy before RL, RL (TRL's GRPO
or RLOO, REINFORCE at n = 1) with the rule reward or the RM, accuracy and KL to the SFT policy after - recorded
with its cost. Reads top to bottom: ``run_sweep`` -> ``run_point``."""

from __future__ import annotations

import functools
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.metrics import bootstrap_ci
from labkit.core.runs import Run, run_items
from labkit.rlhf.config import PointSettings, SweepConfig
from labkit.rlhf.grid import Point, expand
from labkit.rlhf.policy import SftSettings, load_policy, policy_folder, render, sample
from labkit.rlhf.reward import RmSettings, build_rm, load_scorer, rm_metrics
from labkit.rlhf.rl import RewardFn, algorithm_for, kl_to_reference, reinforce_train, trl_train
from labkit.rlhf.tasks import Prompt, make_prompts, rule_reward


def greedy_accuracy(model: Any, tok: Any, prompts: list[Prompt]) -> dict[str, float]:
    """Exact-match accuracy and mean answer length of greedy answers."""
    texts = [t[0] for t in sample(model, tok, render(tok, prompts), 1, temperature=0.0)]
    rewards = [rule_reward(p, t) for p, t in zip(prompts, texts, strict=True)]
    return {"accuracy": sum(rewards) / len(rewards), "length": sum(len(t.strip()) for t in texts) / len(texts),
            "correct": rewards}


def reward_for(s: PointSettings, artifacts: Path) -> tuple[RewardFn, dict[str, Any]]:
    """The point's reward function and, for a learned RM, its artifact and held-out quality."""
    if s.reward == "rule":
        return (lambda prompts, texts: [rule_reward(p, t) for p, t in zip(prompts, texts, strict=True)]), {}
    folder = build_rm(RmSettings(s.reward, s.task, s.task_size, s.rm_prompts, s.sft_seed), artifacts)
    scorer = load_scorer(folder)
    return (lambda prompts, texts: [float(v) for v in scorer([p.compact for p in prompts], texts)]), {"rm": folder.name}


def run_point(point: Point, cfg: SweepConfig, artifacts: Path) -> dict[str, Any]:
    s = point.settings
    if cfg.workers > 1:  # points in parallel processes share the cores instead of each taking all of them
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // cfg.workers))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        algorithm = algorithm_for(s.algorithm, s.n)
    start = time.perf_counter()
    folder = policy_folder(SftSettings.recipe(s.policy, s.task, s.task_size, s.sft_seed), artifacts)
    model, tok = load_policy(folder)
    ref, _ = load_policy(folder)
    held_out = make_prompts(s.task, "eval", cfg.eval_prompts, size=s.task_size, seed=0)
    reward, rm = reward_for(s, artifacts)
    if rm:
        rm.update(rm_metrics(load_scorer(artifacts / rm["rm"]), ref, tok, held_out, seed=s.sft_seed))
    before = greedy_accuracy(model, tok, held_out)
    train = make_prompts(s.task, "train", s.prompts, size=s.task_size, seed=1000 + s.seed)
    if algorithm == "reinforce":
        rl = reinforce_train(model, tok, train, reward, s, ref)
    else:
        rl = trl_train(model, tok, train, reward, s, algorithm, artifacts / f"rl-{point.id}")
    after = greedy_accuracy(model, tok, held_out)
    ci = bootstrap_ci(lambda b, a: float(np.mean(a) - np.mean(b)), before["correct"], after["correct"], n_boot=1000,
                      seed=s.seed)  # paired over the held-out prompts
    return {"point": point.id, "axis": point.axis, "settings": s.__dict__, "sft": folder.name,
            "accuracy_before": before["accuracy"], "accuracy": after["accuracy"],
            "gain": after["accuracy"] - before["accuracy"], "gain_ci": [ci.low, ci.high], "length": after["length"],
            "kl_to_ref": kl_to_reference(model, ref, tok, held_out), **rl, **rm,
            "warnings": [str(w.message) for w in said],
            "seconds": round(time.perf_counter() - start, 3)}


def run_sweep(cfg: SweepConfig, run: Run, *, progress: bool | None = None) -> dict[str, dict[str, Any]]:
    """Every grid point once; a finished point is never recomputed (``--resume``). Points run in ``workers``
    processes locally, on Ray under ``labkit --ray``."""
    points = expand(cfg)
    artifacts = run.dir.parent / "artifacts"  # shared by the runs of one system folder: built once
    artifacts.mkdir(parents=True, exist_ok=True)
    items = [(p.id, p) for p in points]
    backend = None if os.environ.get("LABKIT_RAY") or os.environ.get("LABKIT_RAY_ADDRESS") else "process"
    return run_items(run, items, functools.partial(run_point, cfg=cfg, artifacts=artifacts), workers=cfg.workers,
                     desc="points", backend=backend, progress=progress)
