"""PDS's steps as functions: ``solve_toy`` (the noisy-label toy: PMP scores in paper or exact mode, how well they
separate clean from flipped labels, the target-loss area of top-k, Gumbel-top-k and random subsets against all
data) and ``solve_lm`` (PMP scores of a proxy sample of a text corpus with a proxy LM)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from labkit.pds.config import LmConfig, PdsConfig
from labkit.pds.select import keep_count, select
from labkit.pds.solver import Problem, area, outer_loop, scores
from labkit.pds.toy import make_toy

EXACT_SOURCE = "the last outer epoch's scores (at the gamma before the final update); gamma: the final weights"


def subset_area(p: Problem, idx: np.ndarray) -> float:
    g = torch.zeros(p.n, dtype=p.theta0.dtype)
    g[torch.as_tensor(np.asarray(idx, dtype=np.int64))] = 1.0 / len(idx)
    return area(p, g)


def solve_toy(cfg: PdsConfig) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    t = cfg.toy
    toy = make_toy(d=t.d, n=t.n, dev=t.dev, flip=t.flip, steps=t.steps, eta=t.eta, seed=t.seed)
    p = toy.problem
    out: dict[str, Any] = {"n": p.n, "flipped": int(toy.flipped.sum())}
    if cfg.mode == "exact":
        loop = outer_loop(p, cfg.epochs, step=cfg.step)
        s = loop.scores[-1].numpy()
        out.update(outer_areas=loop.areas, outer_steps=loop.steps, gamma_sum=float(loop.gamma.sum()),
                   gamma_min=float(loop.gamma.min()), score_source=EXACT_SOURCE)
        final = loop.gamma.numpy()
        out["auroc_gamma"] = float(roc_auc_score((~toy.flipped).numpy(), final))
    else:
        s = scores(p, interval=cfg.interval, cosine=cfg.cosine).scores.numpy()
    k = keep_count(cfg.r, p.n)
    out["scores"] = s.tolist()
    out["clean"] = (~toy.flipped).numpy().tolist()
    out["auroc"] = float(roc_auc_score((~toy.flipped).numpy(), s))
    out["area_all"] = area(p, torch.full((p.n,), 1.0 / p.n, dtype=p.theta0.dtype))
    out["area_top"] = subset_area(p, np.sort(np.argsort(-s)[:k]))
    out["area_gumbel"] = subset_area(p, select(s, cfg.r, cfg.tau, cfg.select_seed))
    out["area_random"] = [subset_area(p, np.sort(np.random.default_rng(i).permutation(p.n)[:k]))
                          for i in range(cfg.random_seeds)]
    out["flipped_kept_top"] = int(toy.flipped.numpy()[np.argsort(-s)[:k]].sum())
    return out


def proxy_sample(n_corpus: int, cfg: LmConfig) -> np.ndarray:
    """The proxy set: ``proxy_n`` corpus indices (a seeded draw), ascending."""
    k = min(cfg.proxy_n, n_corpus)
    return np.sort(np.random.default_rng(cfg.seed).permutation(n_corpus)[:k])


def solve_lm(cfg: PdsConfig, texts: list[str], target: list[str]) -> dict[str, Any]:
    """PMP scores of the proxy sample of ``texts`` (one paper-mode epoch, or the outer loop's first scores in
    exact mode) with J = the mean token loss on the first ``target_n`` target documents."""
    from labkit.pds.lm import SIZES, lm_problem, proxy_model, warm_start

    lm = cfg.lm
    idx = proxy_sample(len(texts), lm)
    model, encode = proxy_model(lm.proxy, lm.seed, max_len=lm.seq_len)
    warmed = 0
    if lm.proxy in SIZES:  # a tiny proxy from scratch: warm it up on corpus text outside the proxy set first
        rest = np.setdiff1d(np.arange(len(texts)), idx)
        pool = rest if len(rest) else idx
        pool = np.random.default_rng(lm.seed + 1).permutation(pool)[:5000]
        warmed = warm_start(model, [texts[i] for i in pool], steps=lm.warmup, seq_len=lm.seq_len, seed=lm.seed)
    p, flat = lm_problem(model, encode([texts[i] for i in idx], lm.seq_len), encode(target[:lm.target_n], lm.seq_len),
                         eta=lm.eta, steps=lm.steps, trainable=lm.trainable, chunk=lm.chunk)
    out: dict[str, Any] = {"indices": idx.tolist(), "parameters": int(flat.theta0.numel()), "warmup_steps": warmed}
    if cfg.mode == "exact":
        loop = outer_loop(p, cfg.epochs, step=cfg.step)
        out.update(scores=loop.scores[-1].tolist(), gamma=loop.gamma.tolist(), outer_areas=loop.areas,
                   score_source=EXACT_SOURCE)
    else:
        s = scores(p, interval=cfg.interval, cosine=cfg.cosine)
        out.update(scores=s.scores.tolist(), area=s.area, target_losses=s.target_losses,
                   score_source="one epoch from uniform gamma (the released pipeline)")
    return out
