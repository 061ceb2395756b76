"""Evaluation of trained runs on the test day: one run's checkpoint (``train_coarse`` / ``train_retrieval``
metrics), and a cascade of two - LCRON's Recall@k@m (Wang et al., 2025) for a coarse ranker that keeps the top
``m1`` of each request's coarse-stage candidates and a ranker that picks the top ``m`` of those.

A run is found by its folder: ``config.yaml`` (the resolved settings it was trained with) and ``checkpoint.pt``
(written after every day). An unfinished run is refused, naming how many days it has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from labkit.core.config import load_config
from labkit.core.errors import ConfigError
from labkit.recflow import data
from labkit.recflow.config import RecflowConfig
from labkit.recflow.metrics import recall_k_m
from labkit.recflow.retrieval import RetrievalSettings, SASRec
from labkit.recflow.train import TrainSettings, ranking_model, score_rows


def settings_of(cfg: RecflowConfig) -> TrainSettings | RetrievalSettings:
    """The training settings a resolved config stands for (the paper's lr and batch where it leaves them open)."""
    t = cfg.train
    model = t.model or {"retrieval": "sasrec", "coarse": "dssm", "rank": "din"}.get(t.task)
    if t.task == "retrieval" and model == "sasrec":
        return RetrievalSettings(negatives=t.negatives, n_hard=t.n_hard, lr=t.lr or 0.1, batch=t.batch or 4096,
                                 dim=t.dim, users=t.users, seed=t.seed, device=t.device)
    if t.task not in ("coarse", "rank") or model not in ("dssm", "din"):
        raise ConfigError(f"task {t.task!r} with model {model!r} is not built: retrieval/sasrec, coarse or rank with "
                          "dssm or din")
    return TrainSettings(strategy=t.strategy, model=model, lr=t.lr or 1e-2, batch=t.batch or 1024, dim=t.dim,
                         users=t.users, seed=t.seed, device=t.device)


def trained_on(run: Path) -> Path:
    """The data folder a run recorded (``data`` in its config.yaml)."""
    path = Path(run) / "config.yaml"
    folder = load_config(RecflowConfig, path, []).data if path.exists() else None
    if not folder:
        raise ConfigError(f"{run}: no data folder recorded; pass --data")
    return Path(folder)


def load_run(run: Path, root: Path) -> tuple[torch.nn.Module, TrainSettings | RetrievalSettings]:
    """The trained model of a ``labkit recflow train`` run folder, and its settings."""
    cfg_path, ckpt = Path(run) / "config.yaml", Path(run) / "checkpoint.pt"
    if not cfg_path.exists() or not ckpt.exists():
        raise ConfigError(f"{run}: not a trained RecFlow run (needs config.yaml and checkpoint.pt)")
    s = settings_of(load_config(RecflowConfig, cfg_path, []))
    sizes = data.id_counts(root)
    model = SASRec(sizes, s.dim) if isinstance(s, RetrievalSettings) else ranking_model(sizes, s)
    state = torch.load(ckpt, map_location="cpu")  # evaluated on the CPU
    days = len(data.day_names(root)) - 1
    if int(state["next_day"]) < days:
        raise ConfigError(f"{run}: trained on {state['next_day']} of {days} days; finish it with "
                          f"`labkit recflow train --resume {run}`")
    model.load_state_dict(state["model"])
    return model, s


def cascade_scores(requests: np.ndarray, first: np.ndarray, second: np.ndarray, m1: int) -> np.ndarray:
    """The second stage's scores where the first stage kept the item (its top ``m1`` within the request), -inf
    where it dropped it: ranking by this is the two-stage cascade's final order."""
    requests = np.asarray(requests)
    order = np.lexsort((-np.asarray(first, dtype=np.float64), requests))
    starts = np.flatnonzero(np.r_[True, requests[order][1:] != requests[order][:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    kept = np.empty(len(order), dtype=bool)
    kept[order] = rank < m1
    return np.where(kept, np.asarray(second, dtype=np.float64), -np.inf)


def evaluate_cascade(root: Path, coarse: torch.nn.Module, rank: torch.nn.Module, *, users: float = 1.0,
                     seed: int = 0, m1: int = 60, ks: tuple[int, ...] = (10,), ms: tuple[int, ...] = (10, 20)
                     ) -> dict[str, Any]:
    """Recall@k@m over the test day's requests, on the candidates that entered coarse ranking (the coarse test
    table: 120 per request in a generated funnel); truth = the request's effective views. Reported for the
    cascade (coarse keeps m1, rank picks m) and for each model alone over all the candidates."""
    test_day = data.day_names(root)[-1]
    (_, t), = data.iter_days(root, days=[test_day], users=users, seed=seed)
    keep = np.flatnonzero(t["prerank_neg"] == 0)
    req = t["request_id"][keep]
    truth = ((t["realshow"] * t["effective_view"]) == 1)[keep]
    s1, s2 = score_rows(root, coarse, t, test_day, keep), score_rows(root, rank, t, test_day, keep)
    joint = cascade_scores(req, s1, s2, m1)
    out: dict[str, Any] = {"test_day": test_day, "m1": m1, "candidates_per_request": float(len(req) / max(
        len(np.unique(req)), 1))}
    for name, score in (("cascade", joint), ("coarse_alone", s1), ("rank_alone", s2)):
        out[name] = {f"recall@{k}@{m}": recall_k_m(req, truth, score, k=k, m=m)["recall"] for k in ks for m in ms}
    r = recall_k_m(req, truth, joint, k=ks[0], m=ms[0])
    out["requests"], out["skipped_no_positive"] = r["requests"], r["skipped"]
    return out
