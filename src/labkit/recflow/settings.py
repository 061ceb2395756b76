"""What a RecFlow config or run folder stands for: the training settings of a resolved config (the paper's lr
and batch where it leaves them open), the config a run recorded, and a finished run's trained model."""

from __future__ import annotations

from pathlib import Path

import torch

from labkit.core.config import load_config
from labkit.core.errors import ConfigError
from labkit.recflow.config import RecflowConfig
from labkit.recflow.data import Funnel
from labkit.recflow.retrieval import RetrievalSettings, SASRec
from labkit.recflow.train import TrainSettings, fit_state, ranking_model, read_checkpoint


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
    return TrainSettings(task=t.task, strategy=t.strategy, model=model, lr=t.lr or 1e-2, batch=t.batch or 1024,
                         dim=t.dim, users=t.users, seed=t.seed, device=t.device)


def run_config(run: Path) -> RecflowConfig:
    """The resolved config a run folder recorded; a folder without one is not a trained RecFlow run."""
    path = Path(run) / "config.yaml"
    if not path.exists() or not (Path(run) / "checkpoint.pt").exists():
        raise ConfigError(f"{run}: not a trained RecFlow run (needs config.yaml and checkpoint.pt)")
    return load_config(RecflowConfig, path, [])


def load_run(run: Path, funnel: Funnel) -> tuple[torch.nn.Module, TrainSettings | RetrievalSettings]:
    """The trained model of a ``labkit recflow train`` run folder (on the CPU), and its settings; an unfinished
    run is refused, naming how many days it has."""
    s = settings_of(run_config(run))
    model = SASRec(funnel.sizes, s.dim) if isinstance(s, RetrievalSettings) else ranking_model(funnel.sizes, s)
    state = read_checkpoint(Path(run) / "checkpoint.pt")
    if state["next_day"] < len(funnel.train_days):
        raise ConfigError(f"{run}: trained on {state['next_day']} of {len(funnel.train_days)} days; finish it with "
                          f"`labkit recflow train --resume {run}`")
    fit_state(model, state["model"], Path(run) / "checkpoint.pt")
    return model, s
