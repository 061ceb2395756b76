"""The RLHF sweep (Hou et al., arXiv:2412.06000; brief Sec. 5): every grid point is its own resumable task -
the SFT policy (an artifact, built once), greedy accuracy before RL, RL with TRL's GRPO and the rule reward,
accuracy after - recorded with its cost. Reads top to bottom: ``run_sweep`` -> ``run_point``."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import ConfigError
from labkit.core.metrics import bootstrap_ci
from labkit.core.runs import Run, run_items
from labkit.rlhf.config import PointSettings, SweepConfig
from labkit.rlhf.eval import algorithm_for
from labkit.rlhf.export import MAX_COMPLETION_TOKENS, batch_plan
from labkit.rlhf.grid import Point, expand
from labkit.rlhf.policy import SftSettings, load_policy, sft_policy
from labkit.rlhf.tasks import Prompt, make_prompts, rule_reward


def greedy_accuracy(model: Any, tok: Any, prompts: list[Prompt], max_new_tokens: int = 8) -> dict[str, float]:
    """Exact-match accuracy and mean answer length of greedy answers to the compact prompts."""
    import torch

    enc = tok([p.compact for p in prompts], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id,
                             eos_token_id=tok.eos_token_id)
    texts = tok.batch_decode(out[:, enc.input_ids.shape[1]:], skip_special_tokens=True)
    rewards = [rule_reward(p, t) for p, t in zip(prompts, texts, strict=True)]
    return {"accuracy": sum(rewards) / len(rewards), "length": sum(len(t.strip()) for t in texts) / len(texts),
            "correct": rewards}


def rl_train(model: Any, tok: Any, prompts: list[Prompt], s: PointSettings, out: Path) -> dict[str, Any]:
    """GRPO (TRL) with the exact-match rule reward; returns TRL's final log (reward, KL, tokens)."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    answers = {p.compact: p for p in prompts}

    def reward(completions: list[str], prompts: list[str], **_: Any) -> list[float]:
        return [rule_reward(answers[q], c) for q, c in zip(prompts, completions, strict=True)]

    args = GRPOConfig(output_dir=str(out), num_generations=s.n,
                      per_device_train_batch_size=batch_plan(s)["completions_per_step"],
                      max_completion_length=MAX_COMPLETION_TOKENS, learning_rate=s.lr, beta=s.kl,
                      num_train_epochs=s.epochs,
                      temperature=0.7, seed=s.seed, use_cpu=True, report_to=[], save_strategy="no",
                      logging_steps=10_000, disable_tqdm=True)
    data = Dataset.from_list([{"prompt": p.compact} for p in prompts])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("transformers").setLevel(logging.ERROR)
        trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=data, processing_class=tok)
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # the run's records hold the metrics; no dict dumps on stdout
        result = trainer.train()
    log = next((h for h in reversed(trainer.state.log_history) if "train_runtime" in h), {})
    return {"train_seconds": float(result.metrics.get("train_runtime", 0.0)), "tokens": log.get("num_tokens"),
            "train_reward": log.get("reward"), "kl": log.get("kl")}


def run_point(point: Point, cfg: SweepConfig, artifacts: Path) -> dict[str, Any]:
    s = point.settings
    algorithm = algorithm_for(s.algorithm, s.n, switch_to="")
    if algorithm != "grpo":
        raise ConfigError(f"algorithm {algorithm!r} is not built yet on CPU (grpo only)")
    if s.reward != "rule":
        raise ConfigError(f"reward {s.reward!r} is not built yet (rule only)")
    start = time.perf_counter()
    folder = sft_policy(SftSettings(s.policy, s.task, s.task_size, s.seed), artifacts)
    model, tok = load_policy(folder)
    held_out = make_prompts(s.task, "eval", cfg.eval_prompts, size=s.task_size, seed=0)
    before = greedy_accuracy(model, tok, held_out)
    train = make_prompts(s.task, "train", s.prompts, size=s.task_size, seed=1000 + s.seed)
    rl = rl_train(model, tok, train, s, artifacts / f"rl-{point.id}")
    after = greedy_accuracy(model, tok, held_out)
    ci = bootstrap_ci(lambda b, a: float(np.mean(a) - np.mean(b)), before["correct"], after["correct"], n_boot=1000,
                      seed=s.seed)  # paired over the held-out prompts
    return {"point": point.id, "axis": point.axis, "settings": s.__dict__, "sft": folder.name,
            "accuracy_before": before["accuracy"], "accuracy": after["accuracy"],
            "gain": after["accuracy"] - before["accuracy"], "gain_ci": [ci.low, ci.high], "length": after["length"],
            **rl,
            "seconds": round(time.perf_counter() - start, 3)}


def run_sweep(cfg: SweepConfig, run: Run, *, progress: bool | None = None) -> dict[str, dict[str, Any]]:
    """Every grid point once; a finished point is never recomputed (``--resume``)."""
    points = expand(cfg)
    artifacts = run.dir.parent / "artifacts"  # shared by the runs of one system folder: built once
    artifacts.mkdir(parents=True, exist_ok=True)
    items = [(p.id, p) for p in points]
    return run_items(run, items, lambda p: run_point(p, cfg, artifacts), workers=cfg.workers, desc="points",
                     progress=progress)
