"""The RL step of a grid point: TRL's GRPO or RLOO for n >= 2, and REINFORCE with a leave-one-out baseline
across the batch's prompts for n = 1, plus the KL of the trained policy to its reference.

Why own code for n = 1: TRL 1.16's GRPO and RLOO both refuse ``num_generations < 2`` (their baselines are
group statistics) and its PPO trainer is gone, yet the paper's grid starts at one sample per prompt. With
one sample per prompt the baseline of a sample is the mean reward of the *other prompts'* samples in the
same batch (the batch-level RLOO estimator), the loss is -A * sum log pi(completion), and a KL penalty to
the reference (``kl`` > 0) uses the same per-token k3 estimator TRL's GRPO uses.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError
from labkit.rlhf.config import PointSettings
from labkit.rlhf.export import batch_plan
from labkit.rlhf.policy import max_answer_tokens, render
from labkit.rlhf.tasks import Prompt

RewardFn = Callable[[list[Prompt], list[str]], list[float]]  # (prompts, completions) -> rewards
TEMPERATURE = 0.7


def trl_train(model: Any, tok: Any, prompts: list[Prompt], reward: RewardFn, s: PointSettings, algorithm: str,
              out: Path) -> dict[str, Any]:
    """GRPO or RLOO from TRL; returns the run's cost and TRL's final log (reward, KL, tokens)."""
    from datasets import Dataset
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    by_text = dict(zip(render(tok, prompts), prompts, strict=True))
    generated = [0]

    def reward_func(completions: list[str], prompts: list[str], **_: Any) -> list[float]:
        generated[0] += answer_tokens(tok, completions)
        return list(reward([by_text[q] for q in prompts], completions))

    config, trainer_cls = (GRPOConfig, GRPOTrainer) if algorithm == "grpo" else (RLOOConfig, RLOOTrainer)
    data = Dataset.from_list([{"prompt": text} for text in by_text])
    with warnings.catch_warnings():  # TRL's configs set fields transformers has deprecated: noise for the user
        warnings.simplefilter("ignore")
        logging.getLogger("transformers").setLevel(logging.ERROR)
        args = config(output_dir=str(out), num_generations=s.n,
                      per_device_train_batch_size=batch_plan(s)["completions_per_step"],
                      max_completion_length=max_answer_tokens(tok), learning_rate=s.lr, beta=s.kl,
                      num_train_epochs=s.epochs,
                      temperature=TEMPERATURE, seed=s.seed, use_cpu=True, report_to=[], save_strategy="no",
                      logging_steps=10_000, disable_tqdm=True)
        trainer = trainer_cls(model=model, reward_funcs=reward_func, args=args, train_dataset=data,
                              processing_class=tok)
        trainer.remove_callback(PrinterCallback)  # the run's records hold the metrics; no dict dumps on stdout
        result = trainer.train()
    log = next((h for h in reversed(trainer.state.log_history) if "train_runtime" in h), {})
    shutil.rmtree(out, ignore_errors=True)  # nothing is saved there (save_strategy "no"); the policy stays in memory
    return {"algorithm": algorithm, "train_seconds": round(float(result.metrics.get("train_runtime", 0.0)), 3),
            "tokens": generated[0], "trl_num_tokens": log.get("num_tokens"), "steps": int(trainer.state.global_step)}


def answer_tokens(tok: Any, completions: list[str]) -> int:
    """Generated tokens as the cost measure: the answer's tokens (the closing eos not counted), the same for
    every algorithm."""
    return sum(len(ids) for ids in tok(completions, add_special_tokens=False).input_ids)


def attention(seqs: Any, prompt_len: int, pad_id: int) -> Any:
    """Prompts are left-padded; every completion position is attended (its pads come after eos and are masked
    out of the loss)."""
    att = (seqs != pad_id).long()
    att[:, prompt_len:] = 1
    return att


def completion_logprobs(model: Any, seqs: Any, prompt_len: int, mask: Any, pad_id: int) -> Any:
    """Per-token log-probabilities of the completion tokens of ``seqs`` (batch, prompt + completion)."""
    import torch

    logits = model(input_ids=seqs, attention_mask=attention(seqs, prompt_len, pad_id)).logits
    logp = torch.log_softmax(logits[:, prompt_len - 1:-1].float(), dim=-1)
    return logp.gather(-1, seqs[:, prompt_len:, None])[..., 0] * mask


def completion_mask(completion: Any, eos_id: int) -> Any:
    """1 up to and including the first eos, 0 after it."""
    import torch

    is_eos = completion == eos_id
    after = torch.cumsum(is_eos.long(), dim=1) - is_eos.long()  # eos tokens strictly before this position
    return (after == 0).float()


def batch_loo_advantages(rewards: Any) -> Any:
    """r_i minus the mean reward of the batch's other samples (0 for a batch of equal rewards)."""
    return rewards - (rewards.sum() - rewards) / max(len(rewards) - 1, 1)


def reinforce_train(model: Any, tok: Any, prompts: list[Prompt], reward: RewardFn, s: PointSettings,
                    ref: Any = None) -> dict[str, Any]:
    """n = 1: REINFORCE with the batch leave-one-out baseline (see the module docstring)."""
    import torch

    plan = batch_plan(s)
    batch = plan["completions_per_step"]  # one completion per prompt: as many prompts as completions
    rng = random.Random(s.seed)
    torch.manual_seed(s.seed)
    optim = torch.optim.AdamW(model.parameters(), lr=s.lr)
    tokens, steps, start = 0, 0, time.perf_counter()
    for _ in range(s.epochs):
        order = prompts[:]
        rng.shuffle(order)
        for i in range(0, len(order) - batch + 1, batch):
            chunk = order[i:i + batch]
            enc = tok(render(tok, chunk), return_tensors="pt", padding=True, add_special_tokens=False)
            model.eval()
            with torch.no_grad():
                seqs = model.generate(**enc, max_new_tokens=max_answer_tokens(tok), do_sample=True,
                                      temperature=TEMPERATURE, top_k=0, top_p=1.0, pad_token_id=tok.pad_token_id,
                                      eos_token_id=tok.eos_token_id)
            plen = enc.input_ids.shape[1]
            mask = completion_mask(seqs[:, plen:], tok.eos_token_id)
            texts = tok.batch_decode(seqs[:, plen:], skip_special_tokens=True)
            r = torch.tensor(reward(chunk, texts), dtype=torch.float32)
            advantage = batch_loo_advantages(r)
            model.train()
            logp = completion_logprobs(model, seqs, plen, mask, tok.pad_token_id)
            loss = -(advantage[:, None] * logp).sum() / mask.sum()
            if s.kl > 0 and ref is not None:
                with torch.no_grad():
                    ref_logp = completion_logprobs(ref, seqs, plen, mask, tok.pad_token_id)
                ratio = ref_logp - logp
                loss = loss + s.kl * ((torch.exp(ratio) - ratio - 1) * mask).sum() / mask.sum()
            loss.backward()
            optim.step()
            optim.zero_grad(set_to_none=True)
            tokens += answer_tokens(tok, texts)
            steps += 1
    model.eval()
    return {"algorithm": "reinforce", "train_seconds": round(time.perf_counter() - start, 3), "tokens": tokens,
            "steps": steps}


def kl_to_reference(model: Any, ref: Any, tok: Any, prompts: list[Prompt]) -> float:
    """Mean over prompts of KL(pi || pi_ref) summed over the positions of the policy's greedy answer, each
    position's KL exact over the whole (character) vocabulary."""
    import torch

    enc = tok(render(tok, prompts), return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        seqs = model.generate(**enc, max_new_tokens=max_answer_tokens(tok), do_sample=False,
                              pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        plen = enc.input_ids.shape[1]
        mask = completion_mask(seqs[:, plen:], tok.eos_token_id)
        att = attention(seqs, plen, tok.pad_token_id)
        lp = torch.log_softmax(model(input_ids=seqs, attention_mask=att).logits[:, plen - 1:-1].float(), -1)
        lq = torch.log_softmax(ref(input_ids=seqs, attention_mask=att).logits[:, plen - 1:-1].float(), -1)
        per_pos = (lp.exp() * (lp - lq)).sum(-1) * mask
    return float(per_pos.sum(1).mean())


GROUP_ALGORITHMS = ("grpo", "rloo")  # baselines from the prompt's own samples: need n >= 2
ALGORITHMS = (*GROUP_ALGORITHMS, "reinforce")


def algorithm_for(algorithm: str, n: int, *, switch_to: str = "reinforce") -> str:
    """The algorithm a grid point runs. GRPO's and RLOO's baselines come from the prompt's own samples, so at
    n = 1 every advantage is 0: refused, or switched to ``switch_to`` (REINFORCE with a batch baseline) with a
    warning when one is given. REINFORCE takes one sample per prompt (n = 1)."""
    algorithm = algorithm.lower()
    if n < 1:
        raise ConfigError(f"samples per prompt must be >= 1, got {n}")
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"algorithm must be one of {', '.join(ALGORITHMS)} (got {algorithm!r}; TRL 1.16 has no PPO)")
    if algorithm in GROUP_ALGORITHMS and n == 1:
        if not switch_to:
            raise ConfigError(f"{algorithm.upper()} needs n >= 2 samples per prompt: at n = 1 every group advantage "
                              "is 0")
        warnings.warn(f"{algorithm.upper()} at n = 1 has no learning signal; running {switch_to.upper()} instead",
                      stacklevel=2)
        return switch_to.lower()
    if algorithm == "reinforce" and n != 1:
        raise ConfigError(f"reinforce takes one sample per prompt (n = 1), got n = {n}; use grpo or rloo")
    return algorithm
