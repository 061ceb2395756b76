"""Judge calls saved by successive halving in an HPSS search, and what it costs in test Spearman, at the
paper's budget (21 initialization + 50 iterations), on an item-level surrogate.

Each strategy's true quality comes from the no-LLM surrogate (published single-factor effects +
interactions); a judge with that quality is simulated item by item: rating_i = human_i + sigma_s e_i
with sigma_s set so the expected correlation with the human scores is the strategy's true value, and
e seeded per (strategy, item, split) - so partial evaluations are as noisy as real ones on N items.
The same searcher (HPSS) runs with full evaluation and with halving settings; halving uses
``labkit.hpss.halving.race``, the code `labkit hpss search --halving` runs. Reported per setting: judge
calls (items rated) relative to full evaluation, and the test Spearman (fresh items) of the returned
strategy, paired with full evaluation on the same seeds.

    .venv/bin/python benchmarks/bench_hpss_halving.py [--seeds 80] [--items 100] [--budget 50]
"""

from __future__ import annotations

import argparse
import hashlib

import numpy as np
from scipy import stats

from labkit.core.errors import LabkitError
from labkit.hpss.data import load_initiation
from labkit.hpss.halving import race
from labkit.hpss.searchers import SEARCHERS
from labkit.hpss.space import StrategySpace
from labkit.hpss.surrogate import make_surrogate

SETTINGS = {  # name: (halving on, fractions, z, from the start of initialization)
    "full evaluation": (False, (), 0.0, False),
    "halving, previous default (after init, 1/4 1/2, z 0)": (True, (0.25, 0.5), 0.0, False),
    "halving, default (from init, 1/8 1/4 1/2, z 0.15)": (True, (0.125, 0.25, 0.5), 0.15, True),
    "halving, from init, 1/8 1/4 1/2, no margin (z 0)": (True, (0.125, 0.25, 0.5), 0.0, True),
    "halving, from init, 1/8 1/4 1/2, z 0.5": (True, (0.125, 0.25, 0.5), 0.5, True),
}


class ItemJudge:
    """Ratings of simulated judges on fixed items; counts the items rated."""

    def __init__(self, sur, human: np.ndarray, split: str, seed: int) -> None:
        self.sur, self.human, self.split, self.seed = sur, human, split, seed
        self.rated = 0

    def ratings(self, s, items: list[int]) -> np.ndarray:
        rho = float(np.clip(self.sur.true_value(s), 0.05, 0.95))
        sigma = self.human.std() * np.sqrt(1 / rho ** 2 - 1)
        digest = hashlib.sha256(f"{self.seed}:{self.split}:{s}".encode()).digest()
        noise = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal(0, 1, len(self.human))
        self.rated += len(items)
        return self.human[items] + sigma * noise[items]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.spearmanr(a, b).statistic)


def search(setting, space, default, sur, human, seed: int, budget: int, population: int = 5):
    halving, fractions, z, from_init = setting
    judge = ItemJudge(sur, human, "valid", seed)
    order = np.random.default_rng(seed).permutation(len(human))
    full: dict = {}  # strategy -> ratings on every item

    def evaluate(s) -> float:
        ratings: dict[int, float] = {}

        def rate(items: list[int]) -> None:
            for i, r in zip(items, judge.ratings(s, items), strict=True):
                ratings[i] = r

        def partial(items: list[int]) -> float:
            return spearman(human[items], np.array([ratings[i] for i in items]))

        def threshold(items: list[int]) -> float:
            values = sorted((spearman(human[items], r[items]) for r in full.values()), reverse=True)
            return values[min(population, len(values)) - 1]

        ready = len(full) >= (population if from_init else 21)
        done = race(rate, partial, threshold, order, fractions if halving and ready else (), z)
        value = partial(done)
        if len(done) < len(human):  # stopped: may never outrank the population it trailed
            kth = sorted((spearman(human, r) for r in full.values()), reverse=True)[min(population, len(full)) - 1]
            return min(value, kth - 1e-6)
        full[s] = np.array([ratings[i] for i in range(len(human))])
        return value

    ledger = SEARCHERS["hpss"](space, evaluate, budget, seed, default=default)
    return ledger.best().strategy, judge.rated


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=80)
    ap.add_argument("--items", type=int, default=100, help="Validation items (and as many test items).")
    ap.add_argument("--budget", type=int, default=50)
    args = ap.parse_args()
    space = StrategySpace.paper()
    default = space.default(3)
    try:
        ini = load_initiation("topical_chat")
        effects, base = ini.effects(), ini.average(ini.baseline)
    except LabkitError:
        effects, base = None, 0.5
    calls = {name: [] for name in SETTINGS}
    test = {name: [] for name in SETTINGS}
    for seed in range(args.seeds):
        rng = np.random.default_rng(1000 + seed)
        human, human_test = rng.integers(1, 6, args.items).astype(float), rng.integers(1, 6, args.items).astype(float)
        sur = make_surrogate(space, default, seed, effects=effects, base=base)
        for name, setting in SETTINGS.items():
            best, rated = search(setting, space, default, sur, human, seed, args.budget)
            tester = ItemJudge(sur, human_test, "test", seed)
            test[name].append(spearman(human_test, tester.ratings(best, list(range(args.items)))))
            calls[name].append(rated)
    base_calls, base_test = np.mean(calls["full evaluation"]), np.array(test["full evaluation"])
    print(f"HPSS, budget 21 + {args.budget}, {args.items} validation items, {args.seeds} seeds (item-level surrogate)")
    print(f"{'setting':<56}{'judge calls':>12}{'saved':>8}{'test Spearman':>15}{'vs full':>9}{'p (worse)':>11}")
    for name in SETTINGS:
        t = np.array(test[name])
        diff = t - base_test
        p = stats.wilcoxon(diff, alternative="less").pvalue if np.any(diff) else 1.0
        print(f"{name:<56}{np.mean(calls[name]):>12.0f}{base_calls / np.mean(calls[name]):>7.2f}x"
              f"{t.mean():>15.4f}{diff.mean():>+9.4f}{p:>11.3f}")


if __name__ == "__main__":
    main()
