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
from labkit.maps.config import GenerateConfig, MapsConfig
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


# ---------------------------------------------------------------- evaluation


def load_problems(cfg: MapsConfig) -> list:
    from labkit.maps.data import load_generated, load_simple_circuit_eval, resolve

    root = resolve(cfg.data)
    problems = load_generated(root) if (root / "circuits.jsonl").exists() else load_simple_circuit_eval(root)
    if cfg.netlists:
        folder = Path(cfg.netlists)
        for p in problems:
            path = folder / f"{p.id}.cir"
            if path.exists():
                p.netlist = path.read_text()
    return problems[: cfg.max_items] if cfg.max_items else problems


def solve_problem(problem: Any, method: str, cfg: MapsConfig, reasoner: Any, ppm: Any) -> dict[str, Any]:
    """One problem with one method, judged; the record keeps the answer, verdicts and the trace."""
    from labkit.maps.eval import judge_problem
    from labkit.maps.pipeline import solve_direct, solve_maps

    quantities = list(problem.gold)
    image = problem.image if cfg.solve.reasoner.startswith("openai:") else None
    if method == "maps":
        answer = solve_maps(problem.question, reasoner=reasoner, netlist=problem.netlist,
                            image=problem.image if ppm is not None else None, ppm=ppm, quantities=quantities,
                            repair_rounds=cfg.solve.repair_rounds, max_tokens=cfg.solve.max_tokens)
    else:
        answer = solve_direct(problem.question, reasoner=reasoner, quantities=quantities, cot=method == "cot",
                              max_tokens=cfg.solve.max_tokens, image=image)
    verdicts = judge_problem(answer.answers, problem.gold, rtol=cfg.rtol, atol=cfg.atol)
    return {"id": problem.id, "method": method, "answers": answer.answers, "error": answer.error,
            "verdicts": [v.__dict__ for v in verdicts], "right": all(v.right for v in verdicts),
            "trace": answer.trace}


def eval_run(cfg: MapsConfig, run: Run) -> dict[str, Any]:
    """Every (problem, method) pair is a resumable record; returns the accuracy table per method."""
    from labkit.core.models import load_model
    from labkit.maps.eval import accuracy_table

    problems = load_problems(cfg)
    reasoner = load_model(cfg.solve.reasoner)
    ppm = None if cfg.solve.ppm == "oracle" else load_model(cfg.solve.ppm)
    items = [(f"{m}:{p.id}", (p, m)) for m in cfg.methods for p in problems]
    done = run_items(run, items, lambda pm: solve_problem(pm[0], pm[1], cfg, reasoner, ppm),
                     workers=cfg.workers, desc="problems",
                     kinds={"id": (str, int), "method": str, "verdicts": list, "error": (str, type(None))})
    rows = [done[k]["value"] | {"error": done[k]["value"]["error"]} if done[k]["ok"] else
            {"id": it[0].id, "method": it[1], "verdicts": [{"right": False, "unit": None}] * len(it[0].gold),
             "error": done[k]["error"]} for k, it in items]
    table = accuracy_table(rows)
    return {"table": table, "rows": rows, "problems": len(problems),
            "with_netlist": sum(p.netlist is not None for p in problems)}
