"""Reward-model and policy metrics of an RLHF sweep (brief Sec. 5 "Metrics") and the GRPO edge case.

- pairwise accuracy: the share of preference pairs whose chosen response the RM scores higher (a tie
  counts one half, so a constant RM scores 0.5);
- best-of-N accuracy: the share of prompts whose highest-scored response (the first one among equal
  scores) is correct;
- group-normalised advantage (GRPO): (r - mean(group)) / std(group), exactly 0 for a group whose rewards
  are all equal - in particular at n = 1, where GRPO has no learning signal.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from labkit.core.errors import ConfigError


def pairwise_accuracy(chosen: Sequence[float], rejected: Sequence[float]) -> float:
    c, r = np.asarray(chosen, dtype=float), np.asarray(rejected, dtype=float)
    if c.shape != r.shape or c.ndim != 1 or len(c) == 0:
        raise ValueError("need one chosen and one rejected score per pair")
    return float(np.mean((c > r) + 0.5 * (c == r)))


def best_of_n_accuracy(scores: Sequence[Sequence[float]], correct: Sequence[Sequence[bool]]) -> float:
    """``scores[p][i]``: the RM's score of response i to prompt p; ``correct[p][i]``: the rule's verdict."""
    if len(scores) != len(correct) or not len(scores):
        raise ValueError("need scores and verdicts for the same prompts")
    hits = []
    for s, ok in zip(scores, correct, strict=True):
        if len(s) != len(ok) or not len(s):
            raise ValueError("each prompt needs one verdict per scored response")
        hits.append(bool(ok[int(np.argmax(np.asarray(s, dtype=float)))]))
    return float(np.mean(hits))


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
