"""RecFlow end to end, top to bottom: what a command reads (``needs``: checked before any run folder exists),
training one arm (``train``: retrieval with SASRec, or a ranking stage with DSSM / DIN), evaluating it
(``evaluate``: the official test tables by default) and an experiment family through the shared run machinery
(``experiment``: one item per arm x seed, so ``--resume`` repeats no finished arm and a half-trained one
continues at its first unfinished day)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from labkit.core.errors import ConfigError, LabkitError
from labkit.core.runs import Run, run_items
from labkit.recflow.config import RecflowConfig
from labkit.recflow.data import Funnel
from labkit.recflow.eval import CANDIDATES, evaluate_ranker, evaluate_retrieval
from labkit.recflow.experiment import FAMILIES, Family
from labkit.recflow.retrieval import NEGATIVES, RetrievalSettings, train_retrieval
from labkit.recflow.settings import settings_of
from labkit.recflow.train import STRATEGIES, TrainSettings, train_ranker
from labkit.recflow.validate import Needs

Settings = TrainSettings | RetrievalSettings


def check_settings(s: Settings) -> None:
    """Option values that no file can fix, refused before anything is read."""
    if isinstance(s, RetrievalSettings):
        if s.negatives not in NEGATIVES:
            raise ConfigError(f"train.negatives must be one of {', '.join(NEGATIVES)} (got {s.negatives!r})")
        return
    if s.strategy not in STRATEGIES:
        raise ConfigError(f"train.strategy must be one of {', '.join(STRATEGIES)} (got {s.strategy!r})")
    if s.strategy == "context" and s.model != "din":
        raise ConfigError("request-context modelling needs a sequence model: use --model din")


def needs(settings: list[Settings], *, train: bool, candidates: str = "official", cascade: bool = False) -> Needs:
    """The files training (all days) and / or evaluation (the test day) of these settings read."""
    if candidates not in CANDIDATES:
        raise ConfigError(f"eval.candidates must be one of {', '.join(CANDIDATES)} (got {candidates!r})")
    pickles = {"seq"}
    tests: set[str] = {"coarse"} if cascade and candidates == "official" else set()
    for s in settings:
        if isinstance(s, RetrievalSettings):
            if s.negatives != "random" and train:
                pickles.add("requests")
            tests.add("retrieval")
            continue
        if s.strategy == "aux" and train:
            pickles.add("requests")
        if s.strategy == "context":
            pickles.add("ubm")
        if candidates == "official":
            tests.add(s.task)
    retrieval = any(isinstance(s, RetrievalSettings) for s in settings)
    return Needs(train=train, pickles=tuple(sorted(pickles)), realshow=True,
                 tests=tuple(sorted(tests)), corpus=retrieval)


def train(funnel: Funnel, s: Settings, folder: Path, log: Callable[[dict], None] | None = None) -> torch.nn.Module:
    """One epoch over the training days in order, resumable by day from ``folder/checkpoint.pt``."""
    if isinstance(s, RetrievalSettings):
        return train_retrieval(funnel, s, folder, log=log)
    return train_ranker(funnel, s, folder, log=log)


def evaluate(funnel: Funnel, model: torch.nn.Module, s: Settings, candidates: str = "official") -> dict[str, Any]:
    if isinstance(s, RetrievalSettings):
        return evaluate_retrieval(funnel, model)
    return evaluate_ranker(funnel, model, s.task, candidates=candidates)


def family_settings(cfg: RecflowConfig, family: Family, arm: str, seed: int) -> Settings:
    """The settings of one arm and seed of ``family`` (the config's training settings otherwise)."""
    train_cfg = {**cfg.train.__dict__, family.field: arm, "seed": seed}
    if not family.either_stage or train_cfg["task"] not in ("coarse", "rank"):
        train_cfg["task"] = family.task  # ranking-stage families run on coarse (default) or rank
    return settings_of(RecflowConfig(**{**cfg.__dict__, "train": type(cfg.train)(**train_cfg)}))


def family_arms(cfg: RecflowConfig, family: str) -> tuple[Family, list[str]]:
    if family not in FAMILIES:
        raise ConfigError(f"unknown experiment family {family!r} (families: {', '.join(FAMILIES)})")
    fam = FAMILIES[family]
    return fam, list(cfg.experiment.strategies or fam.arms)


def experiment(run: Run, funnel: Funnel, cfg: RecflowConfig, family: str, candidates: str,
               log: Callable[[str], None]) -> list[tuple[str, int, dict[str, Any]]]:
    """Every arm x seed of ``family`` trained into ``run.dir/<arm>-seed<n>`` and evaluated; each finished one is
    a record of ``run`` (so a resumed run skips it). Returns (arm, seed, metrics) in arm, seed order."""
    from labkit.recflow.experiment import headline

    fam, arms = family_arms(cfg, family)
    items = [(f"{arm}-{seed}", (arm, seed)) for arm in arms for seed in range(cfg.experiment.seeds)]

    def one(item: tuple[str, int]) -> dict[str, Any]:
        arm, seed = item
        s = family_settings(cfg, fam, arm, seed)
        log(f"{arm} seed {seed}: training on {len(funnel.train_days)} day(s)")
        m = evaluate(funnel, train(funnel, s, run.dir / f"{arm}-seed{seed}"), s, candidates)
        name, value = headline(m)
        log(f"{arm} seed {seed}: {name} {value:.4f}")
        return m

    done = run_items(run, items, one, workers=1, backend="thread", progress=False)
    failed = [k for k, r in done.items() if not r.get("ok")]
    if failed:
        raise LabkitError(f"{len(failed)} arm(s) failed, the first {failed[0]}: {done[failed[0]]['error']}")
    return [(arm, seed, done[f"{arm}-{seed}"]["value"]) for arm, seed in (it for _, it in items)]
