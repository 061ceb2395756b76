"""RecFlow costs in one run:

1. how time and peak memory grow from 1K to 20K users (a fresh process per size, 2 days, the first trained on):
   generating, loading a day, training DSSM one day;
2. loader rows/s reading one day: polars against pandas (pyarrow -> pandas);
3. training samples/s per model (DSSM bce and sampling, DIN, DIN with request context, SASRec random and hard
   negatives), feature building included;
4. the per-day subsample pass on the largest folder: one process against worker processes;
5. exact top-K retrieval: faiss IndexFlatIP against a NumPy brute force;
6. Recall/NDCG@K over official-size candidate lists (470 per request): the vectorised ``metrics.ranking`` against
   a per-request loop (the released evaluation's shape).

    .venv/bin/python benchmarks/bench_recflow.py [--users 1000,5000,20000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _grow(job: tuple[str, int, int]) -> dict[str, Any]:
    from labkit.recflow.data import Funnel
    from labkit.recflow.generate import generate
    from labkit.recflow.train import TrainSettings, train_ranker

    out, users, days = job
    t0 = time.perf_counter()
    counts = generate(Path(out), users=users, days=days, requests_per_day=1.0)
    r = {"generate_s": time.perf_counter() - t0, "rows": counts["rows"], "generate_mib": _peak()}
    funnel = Funnel(out)
    t0 = time.perf_counter()
    t = funnel.day(funnel.days[0])
    r["load_s"], r["day_rows"] = time.perf_counter() - t0, len(t["user_id"])
    samples: list[int] = []
    _warm_up()
    t0 = time.perf_counter()
    train_ranker(funnel, TrainSettings(), Path(out) / "ck", log=lambda x: samples.append(x["rows"]))
    r.update(train_s=time.perf_counter() - t0, samples=sum(samples), peak_mib=_peak())
    return r


def _warm_up() -> None:
    """Pay torch's one-time start-up costs (first kernels, allocator) outside the timed calls."""
    import torch

    from labkit.recflow.models import DIN

    sizes = {f: 8 for f in ("user_id", "device_id", "age", "gender", "province", "video_id", "author_id",
                            "category_level_two", "category_level_one", "upload_type")}
    model = DIN(sizes, 8)
    b = {"user": torch.zeros(4, 8, dtype=torch.long), "item": torch.zeros(4, 8, dtype=torch.long),
         "hist": torch.zeros(4, 50, 5, dtype=torch.long), "hist_mask": torch.ones(4, 50, dtype=torch.bool)}
    torch.optim.Adam(model.parameters()).zero_grad()
    model(b).sum().backward()


def _best_of(n: int, fn: Any) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def fresh(fn: Any, job: Any) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, (job,))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", default="1000,5000,20000")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("1. growth (2 days, 1 request per user and day, 180 logged items per request; DSSM bce on day 1)")
        for n in [int(x) for x in a.users.split(",")]:
            r = fresh(_grow, (f"{tmp}/g{n}", n, 2))
            print(f"   {n:>6} users: generate {r['rows']:>9} rows {r['generate_s']:6.1f} s "
                  f"({r['rows'] / r['generate_s']:>9,.0f} rows/s, peak {r['generate_mib']:6.0f} MiB); load a day "
                  f"{r['day_rows'] / r['load_s']:>11,.0f} rows/s; train {r['samples']:>7} samples "
                  f"{r['train_s']:6.1f} s "
                  f"({r['samples'] / r['train_s']:>7,.0f}/s); peak {r['peak_mib']:6.0f} MiB")
            if n != max(int(x) for x in a.users.split(",")):
                shutil.rmtree(f"{tmp}/g{n}", ignore_errors=True)
        largest = Path(f"{tmp}/g{max(int(x) for x in a.users.split(','))}")
        root = Path(f"{tmp}/main")
        from labkit.recflow.generate import generate

        generate(root, users=1000, days=3)
        day = sorted((root / "all_stage").glob("*.feather"))[0]
        import polars as pl
        import pyarrow.feather as feather

        rows = len(pl.read_ipc(day))  # also warms the file cache for both readers
        t_pl = _best_of(3, lambda: pl.read_ipc(day))
        t_pd = _best_of(3, lambda: feather.read_table(day).to_pandas())
        print(f"\n2. loading one day ({rows} rows, best of 3, file cached): polars {rows / t_pl:,.0f} rows/s, "
              f"pyarrow -> pandas {rows / t_pd:,.0f} rows/s (x{t_pd / t_pl:.1f})")

        from labkit.recflow.data import Funnel
        from labkit.recflow.retrieval import RetrievalSettings, train_retrieval
        from labkit.recflow.train import TrainSettings, train_ranker

        print("\n3. training throughput (2 train days, 1,000 users; feature building included; after a warm-up)")
        _warm_up()
        arms = [("DSSM bce", train_ranker, TrainSettings(), "rows"),
                ("DSSM sampling", train_ranker, TrainSettings(strategy="sampling"), "rows"),
                ("DIN bce", train_ranker, TrainSettings(model="din"), "rows"),
                ("DIN context", train_ranker, TrainSettings(model="din", strategy="context"), "rows"),
                ("SASRec random", train_retrieval, RetrievalSettings(batch=256, lr=1e-2), "positives"),
                ("SASRec hard", train_retrieval, RetrievalSettings(negatives="hard", batch=256, lr=1e-2),
                 "positives")]
        for i, (label, train, settings, field) in enumerate(arms):
            rows = []
            t0 = time.perf_counter()
            train(Funnel(root), settings, Path(tmp) / f"ck-{i}",
                  log=lambda r, rows=rows, field=field: rows.append(r[field]))
            sec = time.perf_counter() - t0
            print(f"   {label:<14} {sum(rows):>7} samples in {sec:5.1f} s: {sum(rows) / sec:>8,.0f} samples/s")

        from labkit.recflow.subsample import subsample

        times = {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            subsample(largest, Path(tmp) / f"sub{workers}", 0.2, workers=workers)
            times[workers] = time.perf_counter() - t0
        print(f"\n4. subsample pass (the largest growth folder, 2 days -> 20% of users): 1 process {times[1]:.1f} s, "
              f"2 processes {times[2]:.1f} s (x{times[1] / times[2]:.2f})")

    from labkit.recflow.metrics import topk

    rng = np.random.default_rng(0)
    items, queries = rng.normal(size=(200_000, 8)).astype(np.float32), rng.normal(size=(2_000, 8)).astype(np.float32)
    times = {}
    for backend in ("faiss", "numpy"):
        t0 = time.perf_counter()
        for start in range(0, len(queries), 500):
            topk(queries[start:start + 500], items, 1000, backend=backend)
        times[backend] = time.perf_counter() - t0
    print(f"\n5. exact top-1,000 of 200,000 items for 2,000 users: faiss {times['faiss']:.2f} s, NumPy "
          f"{times['numpy']:.2f} s (x{times['numpy'] / times['faiss']:.1f})")
    _ranking_bench()


def _ranking_bench(requests: int = 20_000, per: int = 470) -> None:
    from labkit.recflow.metrics import ranking

    rng = np.random.default_rng(1)
    req = np.repeat(np.arange(requests), per)
    y = (rng.random(len(req)) < 0.01).astype(np.int64)
    s = rng.normal(size=len(req))
    t0 = time.perf_counter()
    fast = ranking(req, y, s, (50, 100, 200))
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    hits = dict.fromkeys((50, 100, 200), 0.0)
    total = 0.0
    for r in range(requests):  # one request at a time, as the released evaluation
        label, score = y[r * per:(r + 1) * per], s[r * per:(r + 1) * per]
        if 0 < label.sum() < per:
            rank = np.argsort(np.argsort(-score))[label == 1]
            for k in hits:
                hits[k] += np.sum(rank < k)
            total += label.sum()
    t_loop = time.perf_counter() - t0
    assert abs(hits[100] / total - fast.recall[100]) < 1e-12
    print(f"\n6. Recall/NDCG@50/100/200 over {requests:,} requests x {per} candidates: vectorised {t_fast:.2f} s, "
          f"per-request loop (recall only) {t_loop:.2f} s (x{t_loop / t_fast:.1f}); same Recall@100")


if __name__ == "__main__":
    main()
