"""A no-LLM test bed for searchers: the published single-factor effects, random pairwise
interactions and per-strategy evaluation noise (README, HPSS).

true(s) = base + sum_f effect(f, s_f) + sum_{f<g} interaction(f, s_f, g, s_g); an evaluation sees
true(s) + noise(s), the noise fixed per strategy (re-scoring the same prompt on the same validation
items gives the same number). Main effects come from HPSS's initialization files when present,
else from a seeded synthetic table of the same size.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.hpss.space import Strategy, StrategySpace


@dataclass
class Surrogate:
    space: StrategySpace
    base: float
    effects: dict[tuple[int, Any], float]
    interactions: dict[tuple[int, Any, int, Any], float]
    noise_sd: float
    seed: int
    calls: int = 0

    def true_value(self, s: Strategy) -> float:
        value = self.base + sum(self.effects.get((f, v), 0.0) for f, v in enumerate(s))
        for f, g in itertools.combinations(range(len(s)), 2):
            value += self.interactions[(f, s[f], g, s[g])]
        return value

    def __call__(self, s: Strategy) -> float:
        self.calls += 1
        digest = hashlib.sha256(f"{self.seed}:{s}".encode()).digest()
        noise = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal(0, self.noise_sd)
        return self.true_value(s) + noise


def make_surrogate(space: StrategySpace, default: Strategy, seed: int, *,
                   effects: dict[tuple[str, Any], float] | None = None, base: float = 0.5,
                   interaction_sd: float = 0.01, noise_sd: float = 0.03) -> Surrogate:
    rng = np.random.default_rng(seed)
    names = space.names
    if effects is None:  # synthetic main effects, the size of the published ones (|effect| <~ 0.1)
        effects = {(n, v): float(rng.normal(-0.02, 0.04)) for n, vals in space.factors for v in vals}
    main = {(names.index(n), v): e for (n, v), e in effects.items() if n in names}
    for f, v in enumerate(default):
        main[(f, v)] = 0.0
    inter = {}
    for f, g in itertools.combinations(range(len(names)), 2):
        for v in space.factors[f][1]:
            for w in space.factors[g][1]:
                inter[(f, v, g, w)] = float(rng.normal(0, interaction_sd))
    return Surrogate(space, base, main, inter, noise_sd, seed)


def best_true_value(sur: Surrogate) -> float:
    return max(sur.true_value(s) for s in sur.space.all())
