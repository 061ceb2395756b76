"""What PDS's outputs are worth: the pre-training comparison (a tiny LM on the selected subset against a random
subset of the same size, at equal tokens: target-loss curves, their areas, tokens to reach random's final loss)
and, when the corpus carries a ``style`` field (the text toy, or any labelled corpus), which styles a selection
or a score favours."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from labkit.core.report import markdown_table, mean_sd
from labkit.pds.config import PdsConfig
from labkit.pds.data import byte_tokens, packed_blocks
from labkit.pds.lm import Curve, pretrain, tokens_to_reach


def eval_target(target: list[str], cfg: PdsConfig) -> tuple[list[str], str]:
    """The target documents the comparison is measured on: those the solver did not see, when there are any."""
    held = target[cfg.lm.target_n:]
    if held:
        return held, f"{len(held)} target documents the solver did not use"
    return target, f"all {len(target)} target documents (none held out from the solver)"


def compare_pretrain(corpus: list[dict[str, Any]], selected: list[dict[str, Any]], target: list[str],
                     cfg: PdsConfig) -> dict[str, Any]:
    """Curves per seed for the selected subset and for random subsets of the same number of documents."""
    pc = cfg.pretrain
    docs, where = eval_target(target, cfg)
    tgt = byte_tokens(docs, max(pc.seq_len, 8))
    out: dict[str, Any] = {"target": where, "documents": len(selected), "runs": []}
    for seed in range(pc.seeds):
        pick = np.sort(np.random.default_rng(1000 + seed).permutation(len(corpus))[:len(selected)])
        rnd = [corpus[i] for i in pick]
        for name, subset in (("selected", selected), ("random", rnd)):
            blocks = packed_blocks([d["text"] for d in subset], pc.seq_len)
            c = pretrain(blocks, tgt, size=pc.size, steps=pc.steps, batch=pc.batch, lr=pc.lr,
                         eval_every=pc.eval_every, seed=seed)
            out["runs"].append({"subset": name, "seed": seed, "blocks": len(blocks), "steps": c.steps,
                                "tokens": c.tokens, "losses": c.losses, "area": c.area,
                                "styles": dict(Counter(d.get("style", "?") for d in subset))})
    sel = [r for r in out["runs"] if r["subset"] == "selected"]
    rnd_runs = [r for r in out["runs"] if r["subset"] == "random"]
    out["area_selected"] = float(np.mean([r["area"] for r in sel]))
    out["area_random"] = float(np.mean([r["area"] for r in rnd_runs]))
    speedups = []
    for s, r in zip(sel, rnd_runs, strict=True):  # tokens to random's final loss, per seed
        reach = tokens_to_reach(Curve(s["steps"], s["tokens"], s["losses"]), r["losses"][-1])
        speedups.append(r["tokens"][-1] / reach if reach else None)
    out["speedup"] = speedups
    return out


def seed_study(cfg: PdsConfig, seeds: int) -> tuple[str, dict[str, Any]]:
    """The noisy-label toy re-drawn with data seeds toy.seed .. toy.seed + seeds - 1, plain and cosine scores: per
    variant the mean and SD over seeds of the target-loss area of the top-r and Gumbel-top-r subsets, of random
    subsets of the same size, and of (top - random), with how many seeds selection beat random on. No chosen seed:
    the spread is the finding."""
    from dataclasses import replace

    from labkit.pds.method import solve_toy

    rows, out = [], {}
    for cosine in (False, True):
        per = [solve_toy(replace(cfg, cosine=cosine, toy=replace(cfg.toy, seed=cfg.toy.seed + i)))
               for i in range(seeds)]
        top, gum = np.array([p["area_top"] for p in per]), np.array([p["area_gumbel"] for p in per])
        rand, full = np.array([np.mean(p["area_random"]) for p in per]), np.array([p["area_all"] for p in per])
        diff = top - rand
        name = "cosine" if cosine else "plain"
        out[name] = {"seeds": seeds, "area_top": top.tolist(), "area_gumbel": gum.tolist(),
                     "area_random": rand.tolist(), "area_all": full.tolist(), "auroc": [p["auroc"] for p in per],
                     "top_minus_random_mean": float(diff.mean()), "top_minus_random_sd": float(diff.std(ddof=1)),
                     "top_beats_random": int((diff < 0).sum()), "gumbel_beats_random": int((gum < rand).sum())}

        rows.append([name, *(mean_sd(a.tolist()) for a in (full, top, gum, rand)), mean_sd(diff.tolist(), "{:+.1f}"),
                     f"{(diff < 0).sum()} / {seeds}", f"{(gum < rand).sum()} / {seeds}",
                     f"{np.mean(out[name]['auroc']):.3f}"])
    pct = f"{cfg.r:.0%}"
    text = "\n".join([
        f"Over {seeds} data seeds ({cfg.toy.seed}..{cfg.toy.seed + seeds - 1}; mode {cfg.mode}, tau {cfg.tau:g}, "
        f"{cfg.random_seeds} random subsets per seed), target-loss area (lower is better), mean ± SD over seeds:", "",
        markdown_table(["scores", "all data", f"top {pct}", f"Gumbel-top {pct}", f"random {pct}", "top - random",
                        "top beats random", "Gumbel beats random", "AUROC clean vs flipped"], rows), ""])
    return text, out
