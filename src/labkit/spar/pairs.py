"""DPO pairs from one SPaR iteration, TRL-ready, and how alike their two sides are.

- refinement pairs (SPaR): chosen = the tree search's result when it passes the verifier (V > end gate),
  rejected = the failing response it was refined from - they differ mainly where the constraint is;
- independent pairs (the paper's "w/o refinement" ablation): a passing and a failing response sampled
  independently for the same prompt.

Similarity is rapidfuzz's normalised Indel ratio (0..1), the string similarity the paper compares (0.90 for
refinement pairs against 0.85 for independent ones).
"""

from __future__ import annotations

import random
from typing import Any

from labkit.core.errors import require


def similarity(a: str, b: str) -> float:
    fuzz = require("rapidfuzz.fuzz", "spar")
    return float(fuzz.ratio(a, b)) / 100.0


def refinement_pair(prompt: str, tree: dict[str, Any]) -> dict[str, Any] | None:
    """The pair a finished tree gives, or None when the search found no passing refinement."""
    if not tree["success"]:
        return None
    chosen, rejected = tree["nodes"][tree["best"]]["response"], tree["nodes"][0]["response"]
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "similarity": similarity(chosen, rejected),
            "source": "refinement"}


def decided(sample: dict[str, Any]) -> tuple[list[int], int]:
    """Indices of a prompt's sampled responses whose label is decided, and how many are not: as the paper does,
    a response whose votes tie (after the retries) or that got no parseable vote is dropped from labelling -
    neither a passing nor a failing sample - and counted. (Code verification always decides.)"""
    undecided = sample.get("undecided") or [False] * len(sample["passed"])
    keep = [i for i, u in enumerate(undecided) if not u]
    return keep, len(undecided) - len(keep)


def independent_pair(prompt: str, responses: list[str], passed: list[bool], rng: random.Random
                     ) -> dict[str, Any] | None:
    """A random passing and a random failing sample of the same prompt, or None without both."""
    good = [r for r, ok in zip(responses, passed, strict=True) if ok]
    bad = [r for r, ok in zip(responses, passed, strict=True) if not ok]
    if not good or not bad:
        return None
    chosen, rejected = rng.choice(good), rng.choice(bad)
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "similarity": similarity(chosen, rejected),
            "source": "independent"}
