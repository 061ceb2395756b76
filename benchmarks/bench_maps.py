"""MAPS costs: labkit's own simulator vs the ngspice command-line program, and generator throughput.

1. The 115 `ok` circuits of sim_reference.jsonl (needs LABKIT_DATA_DIR): time of the own MNA simulator
   (parse + solve) and of ngspice in batch mode (one process per circuit, as the MAPS wrapper runs it),
   agreement at rtol 1e-4, in one run.
2. Generator: circuits per second without rendering, with rendering in one process, and through
   `labkit maps generate` with worker processes.

    .venv/bin/python benchmarks/bench_maps.py [--circuits 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from labkit.core.paths import data_dir
from labkit.maps import ngspice
from labkit.maps.generate import generate_circuit
from labkit.maps.netlist import parse_netlist
from labkit.maps.simulate import simulate


def simulators() -> None:
    path = data_dir() / "maps" / "synthetic_v11_pr1" / "sim_reference.jsonl"
    if not path.exists():
        print(f"skipped simulator comparison: {path} not found")
        return
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    texts = [r["netlist_unique_names"] for r in rows if r["status"] == "ok"]
    start = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        ours = [simulate(parse_netlist(t)) for t in texts]
    own = (time.perf_counter() - start) / repeats
    print(f"\n{len(texts)} reference circuits (operating point)")
    print(f"own MNA simulator: {own * 1e3:8.1f} ms for all = {own / len(texts) * 1e6:7.1f} us per circuit "
          f"({len(texts) / own:,.0f} solves/s incl. parsing)")
    if not ngspice.available():
        print("ngspice not installed: no comparison (make setup installs it on Debian)")
        return
    start = time.perf_counter()
    theirs = [ngspice.run_ngspice(parse_netlist(t)) for t in texts]
    spice = time.perf_counter() - start
    agree = sum(all(abs(o.measurements[k] - t.measurements[k]) <= 1e-4 * abs(t.measurements[k]) + 1e-9
                    for k in o.measurements) for o, t in zip(ours, theirs, strict=True))
    flagged = sum(o.condition > 1e8 for o in ours)
    print(f"ngspice -b (process per circuit): {spice * 1e3:8.1f} ms = {spice / len(texts) * 1e3:6.2f} ms per circuit")
    print(f"ratio ngspice / own: x{spice / own:,.0f}; agreement at rtol 1e-4: {agree}/{len(texts)} "
          f"({flagged} flagged with condition number > 1e8)")


def generator(count: int, workers: int) -> None:
    print(f"\nGenerator ({count} circuits)")
    start = time.perf_counter()
    for i in range(count):
        generate_circuit(i, seed=1)
    bare = count / (time.perf_counter() - start)
    print(f"draw + checks + simulation, no rendering: {bare:8.1f} circuits/s (one process)")
    from labkit.maps.render import render

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        n = min(count, 50)
        for i in range(n):
            render(generate_circuit(i, seed=1), Path(tmp))
        one = n / (time.perf_counter() - start)
    print(f"with PNG+SVG rendering:                   {one:8.1f} circuits/s (one process, {n} circuits)")
    from labkit.core.runs import Run
    from labkit.maps.config import GenerateConfig
    from labkit.maps.method import generate_run

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.yaml").write_text("{}")
        stats = generate_run(GenerateConfig(n=count, workers=workers), Run(Path(tmp)))
    print(f"`labkit maps generate`, {workers} worker processes: {stats['throughput']['circuits_per_second']:8.1f} "
          "circuits/s (incl. process start-up)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--circuits", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    simulators()
    generator(args.circuits, args.workers)


if __name__ == "__main__":
    main()
