"""MAPS workflows: the synthetic-data factory (and, below, Chain-of-Simulation solving).

``generate_run`` writes one record per circuit through the shared run machinery (resumable: a
restarted run skips finished indices), rendering in worker processes, then exports
``circuits.jsonl`` (upstream-like records), ``labels.json`` (id -> SPICE, the PPM target) and
``stats.json`` (v11-style marginals, rejections, throughput).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.runs import Run, run_items
from labkit.maps.config import GenerateConfig
from labkit.maps.generate import generate_circuit


def split_of(seed: int, index: int, shares: list[float]) -> str:
    u = random.Random(f"labkit-maps-split-{seed}-{index}").random()
    edges = np.cumsum(shares) / sum(shares)
    return ("train", "valid", "test")[int(np.searchsorted(edges, u, side="right"))] if u < 1 else "test"


def generate_item(cfg: GenerateConfig, out: str, index: int) -> dict[str, Any]:
    """One circuit: draw, check, (render), record. Runs in a worker process."""
    circuit = generate_circuit(index, cfg.seed, reactive=cfg.reactive, max_condition=cfg.max_condition,
                               symbolic_rate=cfg.symbolic_rate)
    files: dict[str, str] = {}
    if cfg.render:
        from labkit.maps.render import render

        files = {fmt: f"images/{name}" for fmt, name in
                 render(circuit, Path(out) / "images", formats=tuple(cfg.formats), dpi=cfg.dpi).items()}
    spice = circuit.netlist.to_spice()
    (Path(out) / "netlists").mkdir(exist_ok=True)
    (Path(out) / "netlists" / f"{circuit.id}.cir").write_text(spice)
    return {"id": circuit.id, "index": index, "seed": cfg.seed, "spice": spice, "image": files.get("png"),
            "svg": files.get("svg"), "symbolic": circuit.symbolic, "analysis": circuit.analysis,
            "questions": circuit.questions, "stat": circuit.stat(), "rejected": circuit.rejected,
            "split": split_of(cfg.seed, index, cfg.split)}


def generate_run(cfg: GenerateConfig, run: Run, backend: str | None = None) -> dict[str, Any]:
    import functools

    start = time.perf_counter()
    before = len(run.latest())
    done = run_items(run, [(f"circuit-{i:06d}", i) for i in range(cfg.n)],
                     functools.partial(generate_item, cfg, str(run.dir)), workers=cfg.workers,
                     desc="circuits", backend=backend or ("process" if cfg.workers > 1 else "thread"),
                     max_error_rate=0.0)
    seconds = time.perf_counter() - start
    records = [done[f"circuit-{i:06d}"]["value"] for i in range(cfg.n)]
    with open(run.dir / "circuits.jsonl", "w") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (run.dir / "labels.json").write_text(json.dumps({r["id"]: r["spice"] for r in records}, indent=1))
    stats = dataset_stats(records)
    made = cfg.n - before
    stats["throughput"] = {"circuits_this_call": made, "seconds": round(seconds, 2),
                           "circuits_per_second": round(made / seconds, 2) if made and seconds > 0 else None,
                           "rendered": cfg.render, "workers": cfg.workers}
    (run.dir / "stats.json").write_text(json.dumps(stats, indent=2))
    return stats


def dataset_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean/std/max/min of each stat field (v11's stat file layout), plus rejections, splits and kinds."""
    out: dict[str, Any] = {"circuits": len(records)}
    for key in records[0]["stat"] if records else []:
        values = np.array([r["stat"][key] for r in records], float)
        out[key] = {"mean": float(values.mean()), "std": float(values.std()), "max": float(values.max()),
                    "min": float(values.min())}
    rejected = [r["rejected"] for r in records]
    out["rejected_draws"] = {"total": int(sum(rejected)), "per_circuit": float(np.mean(rejected)) if rejected else 0}
    out["symbolic_share"] = float(np.mean([r["symbolic"] for r in records])) if records else 0.0
    out["splits"] = {s: sum(r["split"] == s for r in records) for s in ("train", "valid", "test")}
    out["analyses"] = {a: sum(r["analysis"] == a for r in records) for a in ("op", "ac", "tran")}
    out["questions"] = sum(len(r["questions"]) for r in records)
    return out
