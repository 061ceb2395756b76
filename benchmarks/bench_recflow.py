"""RecFlow costs in one run:

1. generator rows/s, and how time and peak memory grow from 1K to 20K users (fresh processes, 2 days);
2. loader rows/s reading one day: polars against pandas (pyarrow -> pandas);
3. DSSM training samples/s (coarse ranking, bce and sampling);
4. exact top-K retrieval: faiss IndexFlatIP against a NumPy brute force.

    .venv/bin/python benchmarks/bench_recflow.py [--users 1000,5000,20000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _generate(job: tuple[str, int, int]) -> dict[str, Any]:
    from labkit.recflow.generate import generate

    out, users, days = job
    t0 = time.perf_counter()
    counts = generate(Path(out), users=users, days=days, requests_per_day=1.0)
    return {"seconds": time.perf_counter() - t0, "rows": counts["rows"],
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def fresh(fn: Any, job: Any) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, (job,))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", default="1000,5000,20000")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("1. generator (2 days, 1 request per user and day, 180 logged items per request)")
        for n in [int(x) for x in a.users.split(",")]:
            r = fresh(_generate, (f"{tmp}/g{n}", n, 2))
            print(f"   {n:>6} users: {r['rows']:>9} rows in {r['seconds']:6.1f} s ({r['rows'] / r['seconds']:>9,.0f} "
                  f"rows/s), peak {r['peak_mib']:7.0f} MiB")
        root = Path(f"{tmp}/main")
        from labkit.recflow.generate import generate

        generate(root, users=1000, days=3)
        day = sorted((root / "all_stage").glob("*.feather"))[0]
        import polars as pl
        import pyarrow.feather as feather

        t0 = time.perf_counter()
        df = pl.read_ipc(day)
        t_pl = time.perf_counter() - t0
        t0 = time.perf_counter()
        pdf = feather.read_table(day).to_pandas()
        t_pd = time.perf_counter() - t0
        print(f"\n2. loading one day ({len(df)} rows): polars {len(df) / t_pl:,.0f} rows/s, pandas "
              f"{len(pdf) / t_pd:,.0f} rows/s (x{t_pd / t_pl:.1f})")

        from labkit.recflow.train import TrainSettings, train_coarse

        print("\n3. DSSM training (coarse ranking, 2 train days, 1,000 users)")
        for strategy in ("bce", "sampling"):
            rows = []
            t0 = time.perf_counter()
            train_coarse(root, TrainSettings(strategy=strategy), Path(tmp) / f"ck-{strategy}",
                         log=lambda r, rows=rows: rows.append(r["rows"]))
            sec = time.perf_counter() - t0
            print(f"   {strategy:<9} {sum(rows):>7} samples in {sec:5.1f} s: {sum(rows) / sec:,.0f} samples/s "
                  "(feature building included)")

    from labkit.recflow.metrics import topk

    rng = np.random.default_rng(0)
    items, queries = rng.normal(size=(200_000, 8)).astype(np.float32), rng.normal(size=(2_000, 8)).astype(np.float32)
    times = {}
    for backend in ("faiss", "numpy"):
        t0 = time.perf_counter()
        for start in range(0, len(queries), 500):
            topk(queries[start:start + 500], items, 1000, backend=backend)
        times[backend] = time.perf_counter() - t0
    print(f"\n4. exact top-1,000 of 200,000 items for 2,000 users: faiss {times['faiss']:.2f} s, NumPy "
          f"{times['numpy']:.2f} s (x{times['numpy'] / times['faiss']:.1f})")


if __name__ == "__main__":
    main()
