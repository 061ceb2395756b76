"""Reward-model metrics of an RLHF sweep (arXiv:2412.06000).

- pairwise accuracy: the share of preference pairs whose chosen response the RM scores higher (a tie
  counts one half, so a constant RM scores 0.5);
- best-of-N accuracy: the share of prompts whose highest-scored response (the first one among equal
  scores) is correct.

Which RL algorithm a point runs (GRPO's edge case at n = 1) is ``rl.algorithm_for``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
