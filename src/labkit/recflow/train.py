"""Training the ranking stages on RecFlow days in date order, one epoch (the paper's protocol), resumable by day.

Coarse ranking (DSSM; Adam lr 1e-2, batch 1,024, BCE with effective_view as the label) with the paper's
distribution-shift strategies: ``bce`` trains on exposures only; ``sampling`` adds one random ``rank_neg`` per
request (not shown; label 0); ``all`` adds every such ``rank_neg``; and the auxiliary ranking strategy ``aux``:
BCE on exposures plus 0.1 x BPR of each positive against up to 10 items of each later stage of its request
(``auxiliary``; DIN through its extra two-tower head, ``models.DINAux``); and request-context behaviour
modelling ``context`` (DIN only: the exposure rows of ``bce``, each behaviour enriched with the rank_pos videos
of its own request from ``ubm_seq_request_id_dict``); and FS-LTR ``fsltr`` (DSSM and DIN): a list of up to 62
logged items per request with stage priorities and a pairwise loss (``fsltr``).

After each day the model, the optimiser and the next day's index are saved (``checkpoint.pt``, written through a
temporary file and a rename): a killed run resumes at the first unfinished day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from labkit.core.errors import ConfigError, DataError
from labkit.core.files import atomic_write
from labkit.recflow.auxiliary import WEIGHT as AUX_WEIGHT
from labkit.recflow.auxiliary import aux_candidates, bpr
from labkit.recflow.data import Funnel, Table, history_valid, select_rows
from labkit.recflow.features import Batchable, add_context, build, on
from labkit.recflow.fsltr import priority_loss, request_lists
from labkit.recflow.models import DIN, DSSM, DINAux, DINContext

STRATEGIES = ("bce", "sampling", "all", "aux", "context", "fsltr")


@dataclass(frozen=True)
class TrainSettings:
    task: str = "coarse"  # coarse or rank: which test table evaluates it
    strategy: str = "bce"
    model: str = "dssm"  # dssm (coarse ranking) or din (ranking)
    lr: float = 1e-2  # paper
    batch: int = 1024  # paper
    dim: int = 8  # paper
    users: float = 1.0  # share of users kept
    seed: int = 0
    device: str = "cpu"  # torch device for training (cuda on a GPU box)


def coarse_rows(t: Table, strategy: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, labels) for one day: exposures (label effective_view) plus the strategy's rank_neg rows."""
    if strategy not in STRATEGIES or strategy == "fsltr":
        raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)} for coarse ranking (got {strategy!r}; "
                          "fsltr trains lists, not rows)")
    shown = np.flatnonzero(t["realshow"] == 1)
    rows, labels = [shown], [t["effective_view"][shown]]
    neg = np.flatnonzero((t["rank_neg"] == 1) & (t["realshow"] == 0))
    if strategy == "sampling" and len(neg):
        keys = t["request_id"][neg]
        pick = rng.permutation(len(neg))  # a random rank_neg per request: the first of a random order
        first = np.unique(keys[pick], return_index=True)[1]
        neg = np.sort(neg[pick[first]])
    if strategy in ("sampling", "all"):
        rows.append(neg)
        labels.append(np.zeros(len(neg), dtype=np.int64))
    return np.concatenate(rows), np.concatenate(labels)


def day_features(funnel: Funnel, day: str, t: Table, rows: np.ndarray, labels: np.ndarray, *,
                 context: bool = False) -> Batchable:
    """Features of ``rows`` of a table of ``day`` (a day file or a test table) with their requests' histories
    (and, for request-context models, each behaviour's own request's rank_pos items)."""
    sub = select_rows(t, rows)
    reqs = np.unique(sub["request_id"])
    hist = funnel.histories(day, reqs)
    feats = build(sub, hist, labels)
    if context:
        raw = np.stack([hist[int(r)] for r in reqs]) if len(rows) else np.zeros((0, 50, 10), dtype=np.int64)
        add_context(feats, raw[:, :, 9], history_valid(raw), funnel.stages(day, "ubm"))
    return feats


def predict(model: torch.nn.Module, feats: Batchable, batch: int = 8192) -> np.ndarray:
    """Scores for every row (the last, partial batch included). Two towers (DSSM): the user vector once per
    request, the item vector once per row; DIN: one forward per row."""
    if not len(feats):
        return np.zeros(0, dtype=np.float32)
    dev = next(model.parameters()).device
    model.eval()
    if not isinstance(model, DSSM):
        with torch.no_grad():
            out = torch.cat([model(on(feats.batch(idx), dev)).cpu() for idx in torch.arange(len(feats)).split(batch)])
        model.train()
        return out.numpy()
    first = torch.as_tensor(np.unique(feats.request_row.numpy(), return_index=True)[1])  # a row of each request
    with torch.no_grad():
        users = torch.cat([model.user_vector(on(feats.batch(first[idx]), dev)).cpu() for idx in
                           torch.arange(len(first)).split(batch)])
        items = torch.cat([model.item_vector(feats.item[idx].to(dev)).cpu() for idx in
                           torch.arange(len(feats)).split(batch)])
    model.train()
    return (users[feats.request_row] * items).sum(-1).numpy()


def _save(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def resume(folder: Path, model: torch.nn.Module, opt: torch.optim.Optimizer) -> tuple[Path, int]:
    """(checkpoint path, first day to train): a saved state is loaded into ``model`` and ``opt``."""
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = folder / "checkpoint.pt"
    if not ckpt.exists():
        return ckpt, 0
    state = read_checkpoint(ckpt)
    fit_state(model, state["model"], ckpt)
    try:
        opt.load_state_dict(state["opt"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise DataError(f"its optimiser state does not fit ({_first_line(exc)})", path=str(ckpt)) from None
    return ckpt, state["next_day"]


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A run's checkpoint.pt (model, optimiser, next day); a file torch cannot read or of another shape is a
    DataError naming it (a kill cannot tear it: it is written to a temporary file and renamed)."""
    try:
        state = torch.load(path, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError, RuntimeError, EOFError, ...
        raise DataError(f"not a readable checkpoint ({_first_line(exc)})", path=str(path)) from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict) or \
            not isinstance(state.get("next_day"), int) or state["next_day"] < 0:
        raise DataError("not a labkit checkpoint (model, opt, next_day)", path=str(path))
    bad = next((k for k, v in state["model"].items() if not isinstance(v, torch.Tensor)
                or (v.is_floating_point() and not bool(torch.isfinite(v).all()))), None)
    if bad is not None:  # a flipped bit in a weight reads as NaN/inf: every score from it would be garbage
        raise DataError(f"weight {bad!r} is not a finite tensor", path=str(path))
    return state


def fit_state(model: torch.nn.Module, weights: dict[str, Any], path: Path) -> None:
    """Load ``weights`` into ``model``; weights of another shape (other data or settings) name the file."""
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, KeyError) as exc:
        raise DataError(f"its weights do not fit this model - trained on other data or settings? "
                        f"({_first_line(exc)})", path=str(path)) from None


def ranking_model(sizes: dict[str, int], s: TrainSettings) -> torch.nn.Module:
    """The untrained DSSM, DIN or DIN with request context that ``s`` asks for."""
    if s.model == "dssm":
        return DSSM(sizes, s.dim)
    if s.strategy == "aux":
        return DINAux(sizes, s.dim)  # + the auxiliary two-tower head
    return DINContext(sizes, s.dim) if s.strategy == "context" else DIN(sizes, s.dim)


def train_ranker(funnel: Funnel, s: TrainSettings, folder: Path, *, days: list[str] | None = None,
                 log: Any = None) -> torch.nn.Module:
    """One epoch over ``days`` (default: all but the last) in order; resumes from ``folder/checkpoint.pt``.
    ``s.model``: DSSM (coarse ranking) or DIN (ranking), the same rows and strategies."""
    train_days = days if days is not None else funnel.train_days
    torch.manual_seed(s.seed)
    if s.model not in ("dssm", "din"):
        raise ConfigError(f"model must be dssm or din for ranking stages (got {s.model!r})")
    if s.model == "dssm" and s.strategy == "context":
        raise ConfigError("request-context modelling needs a sequence model: use --model din")
    model = ranking_model(funnel.sizes, s).to(s.device)
    opt = torch.optim.Adam(model.parameters(), lr=s.lr)
    ckpt, start = resume(folder, model, opt)
    train_day = _train_lists if s.strategy == "fsltr" else _train_rows
    for i in range(start, len(train_days)):
        day = train_days[i]
        total, n = train_day(model, opt, funnel, day, funnel.day(day), s, np.random.default_rng([s.seed, i]),
                             torch.Generator().manual_seed(s.seed * 1000 + i))
        _save(ckpt, {"model": model.state_dict(), "opt": opt.state_dict(), "next_day": i + 1})
        if log:
            log({"day": day, "rows": n, "loss": total / max(n, 1)})
    return model


def _train_rows(model: torch.nn.Module, opt: torch.optim.Optimizer, funnel: Funnel, day: str, t: Table,
                s: TrainSettings, rng: np.random.Generator, g: torch.Generator) -> tuple[float, int]:
    """One day of BCE on rows (exposures plus the strategy's stage rows; ``aux`` adds the BPR term); returns the
    loss summed over rows and the number of rows."""
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rows, labels = coarse_rows(t, s.strategy, rng)
    if not len(rows):  # a day without rows (e.g. no kept user): nothing to learn, the day still counts as done
        return 0.0, 0
    feats = day_features(funnel, day, t, rows, labels, context=s.strategy == "context")
    if s.strategy == "aux":
        aux_items, aux_valid = aux_candidates(funnel.stages(day), t["request_id"][rows], t["video_id"][rows],
                                              labels == 1, rng)
    total = 0.0
    for idx in torch.randperm(len(feats), generator=g).split(s.batch):
        b = on(feats.batch(idx), s.device)
        if s.strategy == "aux":  # DSSM reuses its logit; DIN's auxiliary head scores the BPR pairs
            u = model.user_vector(b)
            pair = (u * model.item_vector(b["item"])).sum(-1)
            cand = torch.einsum("bd,bkd->bk", u, model.item_vector(aux_items[idx].to(s.device)))
            logit = pair if isinstance(model, DSSM) else model(b)
            loss = loss_fn(logit, b["label"]) + AUX_WEIGHT * bpr(pair, cand, aux_valid[idx].to(s.device))
        else:
            loss = loss_fn(model(b), b["label"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total, len(feats)


def _train_lists(model: torch.nn.Module, opt: torch.optim.Optimizer, funnel: Funnel, day: str, t: Table,
                 s: TrainSettings, rng: np.random.Generator, g: torch.Generator) -> tuple[float, int]:
    """One day of FS-LTR (``fsltr``): a list per request, batches of ``batch // 16`` requests; returns the loss
    summed over lists and the number of lists."""
    rows, prio = request_lists(t, rng)
    if not len(rows):
        return 0.0, 0
    flat = np.unique(rows[rows >= 0])
    feats = day_features(funnel, day, t, flat, np.zeros(len(flat), dtype=np.int64))
    slots = torch.as_tensor(np.searchsorted(flat, np.maximum(rows, 0)))  # padded slots point at row 0, prio 0
    prio_t = torch.as_tensor(prio)
    total = 0.0
    for idx in torch.randperm(len(rows), generator=g).split(max(s.batch // 16, 1)):
        sl = slots[idx]
        if isinstance(model, DSSM):
            u = model.user_vector(on(feats.batch(sl[:, 0]), s.device))
            scores = torch.einsum("bd,bld->bl", u, model.item_vector(feats.item[sl].to(s.device)))
        else:
            scores = model(on(feats.batch(sl.reshape(-1)), s.device)).reshape(sl.shape)
        loss = priority_loss(scores, prio_t[idx].to(s.device), s.model)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total, len(rows)
