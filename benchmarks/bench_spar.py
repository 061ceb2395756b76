"""SPaR tree-search cost on the embedded SmolLM2 (refiner) with the code verifier, in one run: trees searched
with batched refinements (one call per distinct ask with n samples, trees in parallel through the batching
model) against one refinement call at a time (trees one after another), and a cached re-run of the batched
search (every refinement served from the response cache).

    .venv/bin/python benchmarks/bench_spar.py [--trees 4] [--depth 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from labkit.core.cache import ResponseCache
from labkit.core.models import Sampling, load_model
from labkit.core.models.batching import for_concurrent_callers
from labkit.core.parallel import parallel_map
from labkit.spar.config import SearchConfig
from labkit.spar.judge import parse_refinement, refine_conversation
from labkit.spar.method import model_refiner, programmatic_judge
from labkit.spar.prompts import programmatic_prompts
from labkit.spar.tree import search


def one_at_a_time(model, cfg: SearchConfig):
    """The naive refiner: one conversation, one sample per call (seeded by the ask's position)."""
    def refine(asks):
        out = []
        for i, ask in enumerate(asks):
            done = model.chat([refine_conversation(*ask, fmt=cfg.format)],
                              Sampling(max_tokens=cfg.max_tokens, temperature=cfg.temperature, seed=i))
            out.append(parse_refinement(done[0][0].text, cfg.format))
        return out
    return refine


def run(label: str, roots, refine, judge, cfg: SearchConfig, workers: int) -> float:
    start = time.perf_counter()
    outs = parallel_map(lambda r: search(r[0].prompt, r[1], r[2], refine, judge, cfg), roots, workers=workers,
                        progress=False)
    took = time.perf_counter() - start
    trees = [o.value for o in outs if o.ok]
    n = sum(t.refinements for t in trees)
    print(f"  {label:38s} {len(trees)} trees, {n} refinements in {took:6.1f} s = {n / took:5.2f} refinements/s, "
          f"{sum(t.success for t in trees)} successes")
    return n / took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trees", type=int, default=4)
    ap.add_argument("--depth", type=int, default=1)
    args = ap.parse_args()
    cfg = replace(SearchConfig(), format="plain", depth=args.depth, max_tokens=96)
    items, _ = programmatic_prompts(args.trees, seed=5)
    judge = programmatic_judge({it.prompt: it for it in items})
    cache = ResponseCache(Path(tempfile.mkdtemp(prefix="bench-spar-")) / "cache.sqlite")
    model = load_model("smollm2", cache=cache)
    answers = model.chat([[{"role": "user", "content": it.prompt}] for it in items],
                         Sampling(max_tokens=96, temperature=0.0))
    roots = [(it, a[0].text, v.critique) for it, a in zip(items, answers, strict=True)
             for v in judge([(it.prompt, a[0].text)])]
    print(f"SmolLM2 refiner, code verifier, BFS depth {cfg.depth}, branch {cfg.branch}, {cfg.max_tokens} new tokens:")
    naive = run("one refinement call at a time", roots, one_at_a_time(model, cfg), judge, cfg, workers=1)
    batched_model = for_concurrent_callers(model, 16)
    fast = run("batched (asks x n, trees in parallel)", roots, model_refiner(batched_model, cfg), judge, cfg,
               workers=len(roots))
    print(f"  batched / one at a time: x{fast / naive:.1f}")
    hits = cache.hits
    again = run("batched, cached re-run", roots, model_refiner(batched_model, cfg), judge, cfg, workers=len(roots))
    print(f"  cached re-run / first batched run: x{again / fast:.0f} ({cache.hits - hits} calls served by the cache)")


if __name__ == "__main__":
    main()
