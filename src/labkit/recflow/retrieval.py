"""Retrieval with SASRec on RecFlow days (the paper's protocol: one epoch in date order, Adam lr 0.1, batch
4,096, dim 8, 200 negatives per positive from the day's cumulative exposed corpus, loss -log sigmoid(s+ - s-)).

Positives are the effective views among a request's exposures, the input is the request's history.
Negatives: ``random`` (the 200 drawn from the corpus), ``hard`` (one of the 200 replaced by a prerank_neg of
the same request - an item the cascade retrieved and then dropped) or ``fsltr`` (197 random + one unwatched
exposure, one coarse_neg and one prerank_neg of the request, ranked by the paper's stage priorities with a
pairwise logistic loss over all ordered pairs).

Evaluation (``eval.evaluate_retrieval``): exact top-K over the whole exposed corpus on the retrieval test table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from labkit.core.errors import ConfigError
from labkit.recflow.data import Funnel, Table, history_valid
from labkit.recflow.features import on
from labkit.recflow.models import SASRec
from labkit.recflow.schema import VIDEO_ITEM as ITEM
from labkit.recflow.train import _save, resume

NEGATIVES = ("random", "hard", "fsltr")
# FS-LTR priorities (paper): click 6 > realshow 5 > rerank_pos = rank_pos 4 > rerank_neg = rank_neg 3 >
# coarse_neg 2 > prerank_neg 1 > random 0; the retrieval list holds one realshow, one coarse_neg, one prerank_neg
FSLTR_SLOTS = (("realshow", 5), ("coarse_neg", 2), ("prerank_neg", 1))


@dataclass(frozen=True)
class RetrievalSettings:
    negatives: str = "random"
    n_neg: int = 200  # paper
    n_hard: int = 1  # paper: one of the 200 negatives is a same-request prerank_neg
    lr: float = 0.1  # paper
    batch: int = 4096  # paper
    dim: int = 8  # paper
    users: float = 1.0
    seed: int = 0
    device: str = "cpu"  # torch device for training (cuda on a GPU box)


def histories(funnel: Funnel, day: str, requests: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(video, author, category-two IDs (R, 50, 3), validity (R, 50)) of the requests' histories."""
    h = funnel.histories(day, requests)
    arr = np.stack([h[int(r)] for r in requests]) if len(requests) else np.zeros((0, 50, 10), dtype=np.int64)
    return torch.as_tensor(arr[:, :, [0, 1, 2]]), torch.as_tensor(history_valid(arr))


def _by_request(t: Table, mask: np.ndarray) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i in np.flatnonzero(mask):
        out.setdefault(int(t["request_id"][i]), []).append(int(i))
    return out


def day_examples(funnel: Funnel, day: str, t: Table, s: RetrievalSettings, rng: np.random.Generator
                 ) -> dict[str, torch.Tensor]:
    """Positives, their requests' histories, the negatives of one day and each negative's priority (0 for the
    random ones; FS-LTR's stage priorities for its three stage slots)."""
    if s.negatives not in NEGATIVES:
        raise ConfigError(f"negatives must be one of {', '.join(NEGATIVES)} (got {s.negatives!r})")
    pos = np.flatnonzero((t["realshow"] == 1) & (t["effective_view"] == 1))
    pool = funnel.corpus(day)
    neg = pool[rng.integers(0, len(pool), (len(pos), s.n_neg))]
    prio = np.zeros((len(pos), s.n_neg), dtype=np.int64)
    requests = t["request_id"][pos]
    if s.negatives == "hard":
        by_request = _by_request(t, t["prerank_neg"] == 1)
        for j, r in enumerate(requests):
            rows = by_request.get(int(r), [])
            if rows:
                pick = rng.choice(rows, size=min(s.n_hard, len(rows)), replace=False)
                neg[j, :len(pick)] = np.stack([t[c][pick] for c in ITEM], 1)
    elif s.negatives == "fsltr":
        for slot, (flag, priority) in enumerate(FSLTR_SLOTS):
            mask = (t[flag] == 1) & ((t["effective_view"] == 0) if flag == "realshow" else True)
            by_request = _by_request(t, mask)
            for j, r in enumerate(requests):
                rows = by_request.get(int(r), [])
                if rows:
                    i = rows[rng.integers(len(rows))]
                    neg[j, slot] = [t[c][i] for c in ITEM]
                    prio[j, slot] = priority
    reqs, row = np.unique(requests, return_inverse=True)
    hist, mask = histories(funnel, day, reqs)
    return {"pos": torch.as_tensor(np.stack([t[c][pos] for c in ITEM], 1)), "neg": torch.as_tensor(neg),
            "prio": torch.as_tensor(prio), "row": torch.as_tensor(row), "hist": hist, "mask": mask}


def list_loss(sp: torch.Tensor, sn: torch.Tensor, prio: torch.Tensor) -> torch.Tensor:
    """FS-LTR's pairwise logistic loss over every ordered pair of the list [positive (priority 6), negatives]
    whose priorities differ, averaged; with all-zero negative priorities it is the plain -log sigmoid(s+ - s-)."""
    scores = torch.cat([sp, sn], 1)  # (B, 1 + n)
    p = torch.cat([torch.full_like(prio[:, :1], 6), prio], 1)
    high = int((p > 0).sum(1).max())  # only the first slots can outrank others (random ones are 0)
    order = torch.argsort(-p, dim=1, stable=True)[:, :high]
    s_hi, p_hi = torch.gather(scores, 1, order), torch.gather(p, 1, order)
    pairs = (p_hi.unsqueeze(-1) > p.unsqueeze(1)).float()  # (B, high, 1 + n)
    terms = torch.nn.functional.softplus(scores.unsqueeze(1) - s_hi.unsqueeze(-1)) * pairs
    return terms.sum() / pairs.sum().clamp_min(1)


def train_retrieval(funnel: Funnel, s: RetrievalSettings, folder: Path, *, days: list[str] | None = None,
                    log: Any = None) -> SASRec:
    train_days = days if days is not None else funnel.train_days
    torch.manual_seed(s.seed)
    model = SASRec(funnel.sizes, s.dim).to(s.device)
    opt = torch.optim.Adam(model.parameters(), lr=s.lr)
    ckpt, start = resume(folder, model, opt)
    for i in range(start, len(train_days)):
        day = train_days[i]
        ex = day_examples(funnel, day, funnel.day(day), s, np.random.default_rng([s.seed, i]))
        g = torch.Generator().manual_seed(s.seed * 1000 + i)
        total, n = 0.0, 0
        batches = torch.randperm(len(ex["pos"]), generator=g).split(s.batch) if len(ex["pos"]) else ()
        for idx in batches:  # a day without positives (e.g. no kept user) trains nothing and counts as done
            r = ex["row"][idx]
            b = on({"hist": ex["hist"][r], "mask": ex["mask"][r], "pos": ex["pos"][idx], "neg": ex["neg"][idx],
                    "prio": ex["prio"][idx]}, s.device)
            u = model.user_vector(b["hist"], b["mask"])
            sp = (u * model.item_vector(b["pos"])).sum(-1, keepdim=True)
            sn = torch.einsum("bd,bnd->bn", u, model.item_vector(b["neg"]))
            loss = list_loss(sp, sn, b["prio"])  # = mean -log sigmoid(s+ - s-) without stage slots
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, n = total + loss.item() * len(idx), n + len(idx)
        _save(ckpt, {"model": model.state_dict(), "opt": opt.state_dict(), "next_day": i + 1})
        if log:
            log({"day": day, "positives": len(ex["pos"]), "loss": total / max(n, 1)})
    return model
