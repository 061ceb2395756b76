"""``labkit view`` on a 100,000-item run: time to the first page of rows (a cold index of results.jsonl), a page
deep in the run, failed items only, a search over raw lines, a page after 1,000 more lines are appended (the index
grows, it is not rebuilt) and the memory the index holds - against the naive approach of parsing the whole log per
request, in the same run.

    python benchmarks/bench_view.py [--items 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from labkit.view.app import items_page
from labkit.view.runs import results_index

RUN = "hpss/20261208-000000-big"


def write_run(folder: Path, n: int) -> Path:
    rng = random.Random(0)
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("budget: 50\n")
    with open(folder / "results.jsonl", "w") as fh:
        for i in range(n):
            if i % 97 == 5:
                rec = {"key": f"item-{i}", "ok": False, "error": "BackendError: time-out after 120 s"}
            else:
                rec = {"key": f"item-{i}", "ok": True, "value": {
                    "rating": rng.randint(1, 5), "spearman": rng.random(), "unparsed": int(rng.random() < 0.02),
                    "prompt": "Rate the coherence of this response " * 6, "answer": f"Rating: [[{rng.randint(1, 5)}]]"}}
            fh.write(json.dumps(rec) + "\n")
    return folder


def timed(fn):  # noqa: ANN001, ANN201 - (seconds, result)
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp()) / "runs"
    run = write_run(root / RUN, args.items)
    log = run / "results.jsonl"
    print(f"run: {args.items:,} items, {log.stat().st_size / 1e6:.1f} MB of results.jsonl")
    cold, first = timed(lambda: items_page(root, RUN, limit=50))
    tracemalloc.start()  # the index's memory, measured on a second build (tracemalloc slows what it traces)
    from labkit.view.runs import ResultsIndex

    kept = ResultsIndex(log).refresh()
    index_bytes = tracemalloc.get_traced_memory()[0]
    assert len(kept.entries) == args.items
    tracemalloc.stop()
    deep, _ = timed(lambda: items_page(root, RUN, offset=args.items // 2, limit=50))
    failed_s, failed = timed(lambda: items_page(root, RUN, status="failed", limit=50))
    search_s, search = timed(lambda: items_page(root, RUN, q=f"item-{args.items - 1}\"", limit=50))
    with open(log, "a") as fh:
        fh.write("".join(json.dumps({"key": f"new-{i}", "ok": True, "value": {"rating": 3}}) + "\n"
                         for i in range(1000)))
    grow, grown = timed(lambda: items_page(root, RUN, limit=50))
    naive, _ = timed(lambda: [json.loads(x) for x in log.read_text().splitlines()][:50])
    assert results_index(run).end == log.stat().st_size
    print(f"first page (cold index):      {cold:.2f} s ({first['total']:,} rows indexed)")
    print(f"page at offset {args.items // 2:,}:       {deep * 1000:.1f} ms")
    print(f"failed items only:            {failed_s * 1000:.1f} ms ({failed['total']:,} rows)")
    print(f"search over raw lines:        {search_s:.2f} s ({search['total']} row)")
    print(f"after 1,000 appended lines:   {grow * 1000:.1f} ms ({grown['total']:,} rows)")
    print(f"index memory:                 {index_bytes / 1e6:.0f} MB")
    print(f"naive, the whole log parsed per request: {naive:.2f} s a page; an indexed page is {naive / deep:.0f}x "
          "faster")


if __name__ == "__main__":
    main()
