"""``labkit pds solve`` on the noisy-label toy: PMP scores (paper or exact mode), how well they separate clean
from flipped labels, and the target-loss area after keeping r of the data by top-k, by Gumbel-top-k and at
random, against all data."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from labkit.pds.config import PdsConfig
from labkit.pds.select import select
from labkit.pds.solver import Problem, area, outer_loop, scores
from labkit.pds.toy import make_toy


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
        s = loop.scores[0].numpy()
        out.update(outer_areas=loop.areas, outer_steps=loop.steps, gamma_sum=float(loop.gamma.sum()),
                   gamma_min=float(loop.gamma.min()))
        final = loop.gamma.numpy()
        out["auroc_gamma"] = float(roc_auc_score((~toy.flipped).numpy(), final))
    else:
        s = scores(p, interval=cfg.interval, cosine=cfg.cosine).scores.numpy()
    k = int(np.floor(cfg.r * p.n))
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
