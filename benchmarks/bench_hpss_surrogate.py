"""HPSS against random, greedy, TPE and OPRO on the no-LLM surrogate (brief check 3).

Objective: the published single-factor effects (HPSS's Topical-Chat initialization, Qwen2.5-14B)
+ random pairwise interactions (sd 0.01) + per-strategy noise (sd 0.03). Equal budget (21 + 50)
for every searcher; the score of a searcher is the *true* value of the strategy it returns.
OPRO needs an LLM proposer (the embedded SmolLM2 by default), so it runs on fewer seeds.

    .venv/bin/python benchmarks/bench_hpss_surrogate.py [--seeds 100] [--opro-seeds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from labkit.core.errors import LabkitError
from labkit.hpss.data import load_initiation
from labkit.hpss.searchers import SEARCHERS
from labkit.hpss.space import StrategySpace
from labkit.hpss.surrogate import best_true_value, make_surrogate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--opro-seeds", type=int, default=3)
    parser.add_argument("--proposer", default="smollm2")
    args = parser.parse_args()
    space = StrategySpace.paper()
    default = space.default(3)
    try:
        ini = load_initiation("topical_chat")
        effects, base, source = ini.effects(), ini.average(ini.baseline), "Topical-Chat initialization files"
    except LabkitError:
        effects, base, source = None, 0.5, "synthetic effects (HPSS data not found)"
    print(f"surrogate: {source}; budget 21 + {args.budget}; {args.seeds} seeds")
    names = ["hpss", "random", "greedy", "tpe", "hpss-orig"]
    run = {name: SEARCHERS[name] for name in names if name in SEARCHERS}
    run["hpss-orig"] = lambda *a, **k: SEARCHERS["hpss"](*a, original_bookkeeping=True, **k)
    values: dict[str, list[float]] = {n: [] for n in names}
    regret: dict[str, list[float]] = {n: [] for n in names}
    adv_corr, seconds = [], {n: 0.0 for n in names}
    for seed in range(args.seeds):
        optimum = None
        for name in names:
            sur = make_surrogate(space, default, seed, effects=effects, base=base)
            start = time.perf_counter()
            ledger = run[name](space, sur, args.budget, seed, default=default)
            seconds[name] += time.perf_counter() - start
            assert len(ledger.seen) == len(ledger.steps) == sur.calls  # nothing evaluated twice
            true = sur.true_value(ledger.best().strategy)
            optimum = optimum if optimum is not None else best_true_value(sur)
            values[name].append(true)
            regret[name].append(optimum - true)
            if name == "hpss":
                learned = [ledger.advantages[f][v] for f, (_, vals) in enumerate(space.factors) for v in vals]
                truth = [sur.effects[(f, v)] for f, (_, vals) in enumerate(space.factors) for v in vals]
                adv_corr.append(np.corrcoef(learned, truth)[0, 1])
    print(f"{'searcher':8} {'true value of returned strategy':>32} {'regret':>8} {'s/search':>9}")
    for name in names:
        v = np.asarray(values[name])
        print(f"{name:8} {v.mean():>24.4f} ± {v.std(ddof=1):.4f} {np.mean(regret[name]):8.4f} "
              f"{seconds[name] / args.seeds:9.3f}")
    print("(hpss-orig: the released code's bookkeeping, original_bookkeeping=True)")
    for other in names[1:]:
        diff = np.asarray(values["hpss"]) - np.asarray(values[other])
        t = stats.ttest_rel(values["hpss"], values[other], alternative="greater")
        w = stats.wilcoxon(diff, alternative="greater") if np.any(diff) else None
        print(f"hpss vs {other:6}: mean diff {diff.mean():+.4f}, wins {int((diff > 0).sum())}/{len(diff)}, "
              f"paired t p={t.pvalue:.2g}" + (f", Wilcoxon p={w.pvalue:.2g}" if w else ""))
    print(f"HPSS advantages vs true main effects: mean Pearson r = {np.mean(adv_corr):.3f}")
    if args.opro_seeds:
        from labkit.core.models import load_model

        proposer = load_model(args.proposer)
        opro_vals, hpss_vals, fallbacks, proposals = [], [], 0, 0
        start = time.perf_counter()
        for seed in range(args.opro_seeds):
            sur = make_surrogate(space, default, seed, effects=effects, base=base)
            ledger = SEARCHERS["opro"](space, sur, args.budget, seed, default=default, proposer=proposer)
            opro_vals.append(sur.true_value(ledger.best().strategy))
            hpss_vals.append(values["hpss"][seed])
            fallbacks += ledger.opro_fallbacks
            proposals += len(ledger.steps) - 1  # every evaluation after the default was proposed
        print(f"opro ({args.proposer} proposer, {args.opro_seeds} seeds): {np.mean(opro_vals):.4f} vs hpss "
              f"{np.mean(hpss_vals):.4f} on the same seeds; {fallbacks} of {proposals} "
              f"proposals unusable (replaced by random strategies); {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
