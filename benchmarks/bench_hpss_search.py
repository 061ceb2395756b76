"""Cost of an HPSS search on the embedded judge: with and without successive halving, and a
cached re-run against the uncached run, all in this one run (self-built capitals data).

    .venv/bin/python benchmarks/bench_hpss_search.py [--budget 6]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from labkit.core.cache import ResponseCache
from labkit.core.config import to_dict
from labkit.core.models import load_model
from labkit.core.runs import start_run
from labkit.hpss.demo import build_dataset, demo_config
from labkit.hpss.method import estimate_cost, prepare, score_on_test, search
from labkit.hpss.report import write_report


def one_search(cfg, cache: ResponseCache, root: Path) -> dict:
    model = load_model(cfg.judge, cache=cache)
    misses = cache.misses
    start = time.perf_counter()
    p = prepare(cfg, model=model)
    run = start_run("hpss", "bench", to_dict(cfg), root=root)
    ledger, valid = search(p, run)
    test = score_on_test(p, run, [ledger.best().strategy, p.default])
    m = write_report(p, run, ledger, valid, test, estimate_cost(p))
    return {"seconds": time.perf_counter() - start, "judge_calls": m["judge_calls"],
            "model_calls": cache.misses - misses, "best": "|".join(map(str, m["best_strategy"].values())),
            "test": m["test_best_spearman"], "items_judged": m["items_judged"], "pruned": m["pruned"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = replace(demo_config(build_dataset(root / "capitals.jsonl")), budget=args.budget)
        plain_cache = ResponseCache(root / "plain.sqlite")
        rows = {"full evaluation": one_search(cfg, plain_cache, root),
                "successive halving": one_search(replace(cfg, halving=True), ResponseCache(root / "halving.sqlite"),
                                                 root),
                "cached re-run": one_search(cfg, plain_cache, root)}
    print(f"HPSS on the embedded judge, capitals set, budget {args.budget}")
    def fmt(x: float) -> str:
        return "n/a (constant ratings)" if x != x else f"{x:.3f}"

    for name, r in rows.items():
        print(f"{name:19} {r['seconds']:7.1f}s  judge calls {r['judge_calls']:5d}  model calls {r['model_calls']:5d}  "
              f"items judged {r['items_judged']:4d}  pruned {r['pruned']:2d}  best {r['best']}  test Spearman "
              f"{fmt(r['test'])}")
    full, halved, cached = rows["full evaluation"], rows["successive halving"], rows["cached re-run"]
    print(f"halving: x{full['judge_calls'] / max(halved['judge_calls'], 1):.2f} fewer judge calls, "
          f"x{full['seconds'] / halved['seconds']:.2f} faster, test Spearman {fmt(halved['test'])} vs "
          f"{fmt(full['test'])}")
    print(f"cache: re-run x{full['seconds'] / cached['seconds']:.1f} faster, {cached['model_calls']} model calls")


if __name__ == "__main__":
    main()
