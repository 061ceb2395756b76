"""PDS costs in one run, each configuration in a fresh process (time and peak resident memory):

1. the torch.func solver (batched JVPs, forward-over-reverse HVPs, sqrt(T) checkpoints) against a naive loop that
   materialises every per-example gradient with autograd and keeps all T parameter vectors, on the tiny-LM proxy
   at several proxy-set sizes (the two must give the same scores: checked);
2. how the solver's cost grows with T and with the proxy's size;
3. corpus scoring throughput (documents/s) with 1 and 2 worker processes;
4. tokens to reach random data's final target loss with PDS-selected data on the text toy.

    .venv/bin/python benchmarks/bench_pds.py [--sizes 32,128,512] [--steps 20] [--documents 4000]
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


def _problem(n: int, steps: int, size: str = "xs"):
    from labkit.pds.data import byte_tokens, make_text_toy
    from labkit.pds.lm import lm_problem, tiny_lm

    toy = make_text_toy(max(n, 64), 64, seed=0)
    return lm_problem(tiny_lm(size, 0, 64), byte_tokens([d["text"] for d in toy.corpus[:n]], 64),
                      byte_tokens(toy.target[:32], 64), eta=0.3, steps=steps)[0]


def naive_scores(p: Any) -> Any:
    """The textbook reverse pass: all thetas stored, per-example gradients by autograd, HVP by double backward."""
    import torch

    gamma = torch.full((p.n,), 1.0 / p.n)
    ids, mask = p.data
    thetas = [p.theta0.clone()]
    for _ in range(p.steps):
        th = thetas[-1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(p.train_loss(th, gamma), th)
        thetas.append((th - p.eta * g).detach())
    th = thetas[-1].clone().requires_grad_(True)
    (lam,) = torch.autograd.grad(p.target_loss(th), th)
    total = torch.zeros(p.n)
    for t in range(p.steps - 1, -1, -1):
        th = thetas[t].clone().requires_grad_(True)
        grads = torch.stack([torch.autograd.grad(p.example_loss(th, (ids[i], mask[i])), th)[0] for i in range(p.n)])
        total += p.eta * grads @ lam
        if t > 0:
            (g,) = torch.autograd.grad(p.train_loss(th, gamma), th, create_graph=True)
            (hv,) = torch.autograd.grad(g @ lam, th)
            (gj,) = torch.autograd.grad(p.target_loss(th), th)
            lam = gj + lam - p.eta * hv
    return total


def _measure(job: tuple[str, int, int, str]) -> dict[str, Any]:
    import torch

    from labkit.pds.solver import scores

    torch.set_num_threads(1)
    how, n, steps, size = job
    p = _problem(n, steps, size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    s = scores(p).scores if how == "func" else naive_scores(p)
    sec = time.perf_counter() - t0
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # MiB above the loaded problem
    return {"how": how, "n": n, "steps": steps, "size": size, "seconds": sec, "peak_mib": peak,
            "params": int(p.theta0.numel()), "scores": s.numpy()}


def fresh(job: tuple[str, int, int, str]) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure, (job,))


def solver_table(sizes: list[int], steps: int) -> None:
    print(f"1. solver vs naive per-example-gradient loop (tiny LM 'xs', T={steps}, 1 thread)")
    print(f"{'N':>5} {'torch.func s':>13} {'naive s':>9} {'speed-up':>9} {'func MiB':>9} {'naive MiB':>10} "
          f"{'max rel diff':>13}")
    for n in sizes:
        a, b = fresh(("func", n, steps, "xs")), fresh(("naive", n, steps, "xs"))
        diff = float(np.max(np.abs(a["scores"] - b["scores"])) / np.max(np.abs(b["scores"])))
        print(f"{n:>5} {a['seconds']:>13.2f} {b['seconds']:>9.2f} {b['seconds'] / a['seconds']:>8.1f}x "
              f"{a['peak_mib']:>9.1f} {b['peak_mib']:>10.1f} {diff:>13.1e}")


def growth_table(n: int, steps: int) -> None:
    print(f"\n2. torch.func solver cost with T and model size (N={n})")
    for size in ("xs", "s"):
        for t in (steps // 2, steps, 2 * steps):
            r = fresh(("func", n, t, size))
            print(f"   size {size:<3} ({r['params']:>7} params)  T={t:<4} {r['seconds']:7.2f} s  "
                  f"peak +{r['peak_mib']:.1f} MiB")


def scoring_table(documents: int) -> None:
    from labkit.pds.config import ScorerConfig
    from labkit.pds.corpus import score_corpus
    from labkit.pds.data import make_text_toy, write_text_toy
    from labkit.pds.scorer import fit_scorer

    print(f"\n3. corpus scoring (MiniLM + ridge), {documents} documents, shards of 250")
    with tempfile.TemporaryDirectory() as tmp:
        toy = make_text_toy(documents, 10, seed=0)
        corpus, _ = write_text_toy(toy, Path(tmp))
        y = np.array([len(d["text"]) for d in toy.corpus[:200]], dtype=float)
        scorer, _ = fit_scorer([d["text"] for d in toy.corpus[:200]], y, ScorerConfig())
        folder = scorer.save(Path(tmp) / "scorer")
        rates = {}
        for workers in (1, 2):
            out = Path(tmp) / f"scores{workers}"
            t0 = time.perf_counter()
            score_corpus(corpus, folder, out, shard_size=250, workers=workers)
            rates[workers] = documents / (time.perf_counter() - t0)
            print(f"   {workers} worker(s): {rates[workers]:8.0f} documents/s")
            shutil.rmtree(out)
        print(f"   2 workers / 1: x{rates[2] / rates[1]:.2f}")


def speedup_line() -> None:
    from labkit.core.config import load_config
    from labkit.pds.config import PdsConfig
    from labkit.pds.data import make_text_toy
    from labkit.pds.eval import compare_pretrain
    from labkit.pds.method import solve_lm
    from labkit.pds.scorer import fit_scorer
    from labkit.pds.select import select

    print("\n4. tokens to target loss on the text toy (2,000 documents, proxy 256, T 60, ridge scorer, r 0.4)")
    cfg = load_config(PdsConfig, overrides=["pretrain.seeds=2"])
    toy = make_text_toy(2000, 200, seed=0)
    texts = [d["text"] for d in toy.corpus]
    sol = solve_lm(cfg, texts, toy.target)
    idx = np.array(sol["indices"])
    scorer, rep = fit_scorer([texts[i] for i in idx], np.array(sol["scores"]), cfg.scorer)
    keep = select(scorer.predict(texts), cfg.r, cfg.tau, cfg.select_seed)
    res = compare_pretrain(toy.corpus, [toy.corpus[i] for i in keep], toy.target, cfg)
    print(f"   scorer validation Spearman {rep['spearman']['ridge']:.3f}; area selected {res['area_selected']:.3f} "
          f"vs random {res['area_random']:.3f}; tokens to random's final loss, random / selected: "
          + ", ".join("never" if s is None else f"x{s:.2f}" for s in res["speedup"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="32,128,512")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--documents", type=int, default=4000)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip (1,2,3,4)")
    a = ap.parse_args()
    skip = set(a.skip.split(","))
    if "1" not in skip:
        solver_table([int(x) for x in a.sizes.split(",")], a.steps)
    if "2" not in skip:
        growth_table(64, a.steps)
    if "3" not in skip:
        scoring_table(a.documents)
    if "4" not in skip:
        speedup_line()


if __name__ == "__main__":
    main()
