"""MAPS costs: labkit's own simulator vs the ngspice command-line program, and generator throughput.

1. The 115 `ok` circuits of sim_reference.jsonl (needs LABKIT_DATA_DIR): time of the own MNA simulator
   (parse + solve) and of ngspice in batch mode (one process per circuit, as the MAPS wrapper runs it),
   agreement at rtol 1e-4, in one run.
2. Transient decks of 1e3 to 1e6 fixed time points (RC, a pulsed RLC, an RC ladder of 8 sections with
   a SIN source, a circuit with controlled sources): own simulator (parse + all series) vs `ngspice -b`
   on the same deck (TMAX = TSTEP so it takes the same points; `wrdata` of the measured node), with the
   ratio per deck and how each time grows with the number of points.
3. Generator: circuits per second without rendering, with rendering in one process, and through
   `labkit maps generate` with worker processes.

    .venv/bin/python benchmarks/bench_maps.py [--circuits 200] [--workers 2] [--max-points 1000000]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
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
    own = math.inf
    for _ in range(20):  # best of 20 passes (timeit's habit: the least disturbed run)
        start = time.perf_counter()
        ours = [simulate(parse_netlist(t)) for t in texts]
        own = min(own, time.perf_counter() - start)
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


TRANSIENT_DECKS = {
    "RC": "V1 1 0 PULSE(0 5 0 1u 1u 1m 2m)\nR1 1 2 1k\nC1 2 0 1u\n",
    "RLC pulse": "V1 1 0 PULSE(0 5 10u 1u 1u 200u 500u)\nR1 1 2 10\nL1 2 3 10m\nC1 3 0 1u\nR2 3 0 1k\n",
    "RC ladder x8, SIN": "V1 1 0 SIN(0 1 1k)\n" + "".join(f"R{k} {k} {k + 1} 100\nC{k} {k + 1} 0 100n\n"
                                                           for k in range(1, 9)),
    "controlled sources": "V1 1 0 SIN(0 1 500)\nVs 1 2 0\nR1 2 0 100\nF1 0 3 Vs 2\nR2 3 0 50\nC2 3 0 1u\n"
                          "E1 4 0 3 0 2\nR4 4 5 1k\nL1 5 0 10m\nG1 0 6 5 0 1m\nR6 6 0 1k\n",
}


def transients(max_points: int) -> None:
    points = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= max_points]
    print("\nTransient decks (own: parse + every node/branch series, internal steps that resolve the circuit's "
          "modes, source corners as time points; ngspice -b: TMAX = TSTEP)")
    print(f"{'deck':<20}{'points':>10}{'own s':>10}{'ngspice s':>11}{'ngspice/own':>13}")
    simulate(parse_netlist("warm-up: imports once per process\nV1 1 0 1\nR1 1 2 1\nC1 2 0 1\n.tran 1 10\n",
                           title=True))
    for name, body in TRANSIENT_DECKS.items():
        rows = []
        for n in points:
            tstop = 5e-3
            h = tstop / n
            deck = f"{name}\n{body}.tran {h:g} {tstop:g} 0 {h:g}\n.end\n"
            repeats = 3 if n <= 100_000 else 1  # best of 3 on the short decks, for both
            own = math.inf
            for _ in range(repeats):
                start = time.perf_counter()
                result = simulate(parse_netlist(deck, title=True))
                own = min(own, time.perf_counter() - start)
            assert result.ok and len(result.axis) >= n + 1, (name, n, result.status)  # + source corners
            spice = min(_ngspice_seconds(deck) for _ in range(repeats)) if ngspice.available() else None
            rows.append((n, own, spice))
            ratio = f"x{spice / own:8.1f}" if spice else "-"
            print(f"{name:<20}{n:>10,}{own:>10.3f}{(spice or float('nan')):>11.3f}{ratio:>13}")
        if len(rows) > 1:
            growth = rows[-1][1] / rows[0][1]
            spice_growth = rows[-1][2] / rows[0][2] if rows[0][2] else float("nan")
            print(f"{'':<20}{'growth':>10} own x{growth:.0f}, ngspice x{spice_growth:.0f} "
                  f"over x{points[-1] // points[0]:,} points")


def _ngspice_seconds(deck: str, expr: str = "v(2)") -> float:
    """Wall time of `ngspice -b` on ``deck`` writing ``expr`` at every point (process start included)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deck.cir"
        path.write_text(deck.replace(".end\n", f".control\nrun\nwrdata out.txt {expr}\n.endc\n.end\n"))
        start = time.perf_counter()
        subprocess.run(["ngspice", "-b", str(path)], capture_output=True, cwd=tmp, timeout=600)
        took = time.perf_counter() - start
        assert (Path(tmp) / "out.txt").exists(), "ngspice wrote no data"
    return took


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


def _sweep_table(title: str, decks: list[str], expr: str, points: list[int] | None = None) -> None:
    """Own simulator against `ngspice -b` on each deck of a sweep analysis, one row per deck (``points``: the
    number of sweep points each must give)."""
    print(f"\n{title} (own: parse + every point's node voltages and currents; ngspice -b: wrdata)")
    print(f"{'points':>10}{'own s':>10}{'ngspice s':>11}{'ngspice/own':>13}")
    for k, deck in enumerate(decks):
        start = time.perf_counter()
        result = simulate(parse_netlist(deck, title=True))
        own = time.perf_counter() - start
        assert result.ok and (points is None or len(result.axis) == points[k]), (title, result.detail)
        spice = _ngspice_seconds(deck, expr) if ngspice.available() else None
        ratio = f"x{spice / own:8.1f}" if spice else "-"
        print(f"{len(result.axis):>10,}{own:>10.3f}{(spice or float('nan')):>11.3f}{ratio:>13}")


def ac_sweeps() -> None:
    """An .ac sweep of an 8-section RLC ladder: own (all frequencies in one batched solve) against ngspice -b."""
    ladder = "".join(f"R{k} {k} {k}a 10\nL{k} {k}a {k + 1} 1m\nC{k} {k + 1} 0 1u\n" for k in range(1, 9))
    _sweep_table(".ac sweeps", [f"ac ladder\nV1 1 0 AC 1\n{ladder}R20 9 0 1k\n.ac dec {per} 10 100k\n.end\n"
                                for per in (20, 200, 2_000)], "v(9)")


def dc_sweeps() -> None:
    """A .dc sweep of an 8-stage resistor ladder with a controlled source: own (one factorisation, one solve per
    point) against ngspice -b, both writing every point."""
    ladder = "".join(f"R{k} {k} {k + 1} 1k\nR{k}g {k + 1} 0 2k\n" for k in range(1, 9))
    counts = [100, 1_000, 10_000]
    _sweep_table(".dc sweeps", [f"dc ladder\nV1 1 0 0\n{ladder}E1 20 0 9 0 2\nR20 20 0 1k\n.dc V1 0 {n - 1} 1\n"
                                ".end\n" for n in counts], "v(2)", counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--circuits", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-points", type=int, default=1_000_000)
    args = parser.parse_args()
    simulators()
    transients(args.max_points)
    ac_sweeps()
    dc_sweeps()
    generator(args.circuits, args.workers)


if __name__ == "__main__":
    main()
