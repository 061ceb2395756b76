"""RecFlow settings with the paper's defaults (Liu et al., ICLR 2025, arXiv:2410.20868)."""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit.core.config import option


@dataclass
class GenerateConfig:
    users: int = option(1000, "Users (the release: 42K)", ge=2)
    days: int = option(4, "Days; the last one is the test day (the release: 37, test day 2024-02-18)", ge=2)
    videos: int | None = option(None, "Videos in the hidden corpus (None: 20 per user; the release: 8.7M)", ge=20)
    requests_per_day: float = option(3.0, "Mean requests per user and day (the release: about 6)", gt=0)
    seed: int = option(0, "Seed of the hidden world and the logs", ge=0)


@dataclass
class TrainConfig:
    task: str = option("coarse", "retrieval (SASRec), coarse (DSSM by default) or rank (DIN by default)")
    model: str | None = option(None, "sasrec, dssm or din (None: the task's paper model)")
    strategy: str = option("bce", "bce: exposures only; sampling: + one random rank_neg per request (label 0); all: + "
                           "every rank_neg (distribution shift); aux: + 0.1 x BPR of each positive against up to 10 "
                           "items of each of rerank_pos/neg, rank_pos/neg of its request (auxiliary ranking; DIN "
                           "through a two-tower head); context: request-context behaviours (DIN); fsltr: a list of "
                           "up to 62 logged items per request with stage priorities, pairwise loss (FS-LTR)")
    negatives: str = option("random", "Retrieval negatives: random (200 from the exposed corpus) or hard (n_hard of "
                            "them same-request prerank_neg)")
    n_hard: int = option(1, "Hard negatives among the 200 (paper: 1)", ge=0, le=200)
    lr: float | None = option(None, "Adam learning rate (None: the paper's, 1e-2 for DSSM, 0.1 for SASRec)", gt=0)
    batch: int | None = option(None, "Batch size (None: the paper's, 1,024 for DSSM, 4,096 for SASRec)", ge=1)
    dim: int = option(8, "Embedding dimension (paper: 8)", ge=1)
    users: float = option(1.0, "Share of users kept (a hash of the user ID: the same users every day)", gt=0, le=1)
    seed: int = option(0, "Seed of initialisation, sampling and batch order", ge=0)
    device: str = option("cpu", "Torch device for training: cpu, or cuda on a GPU box (features are built on the CPU "
                         "and moved per batch; evaluation follows the model's device)")


@dataclass
class EvalConfig:
    candidates: str = option("official", "Ranking stages' Recall/NDCG@K candidates: official (the release's test table "
                             "of the stage - coarse_rank_test / prerank_test, rank_test - as the released code) or "
                             "logged (labkit's variant: the test day's logged all_stage rows)")
    m1: int = option(60, "Cascade: candidates the coarse model keeps per request before the rank model picks m "
                     "(LCRON's protocol: the first stage's top-m1)", ge=1)


@dataclass
class ExperimentConfig:
    strategies: list[str] | None = option(None, "Arms compared, the first the baseline (None: the family's - "
                                          "distribution-shift: bce, sampling, all; auxiliary-ranking: bce, aux; "
                                          "fs-ltr: bce, fsltr; request-context: bce, context; retrieval-negatives: "
                                          "random, hard, fsltr)")
    seeds: int = option(3, "Training seeds per strategy", ge=1)
    family: str | None = option(None, "The family an experiment run ran (set from the command; checked on --resume)")


@dataclass
class RecflowConfig:
    data: str | None = option(None, "The RecFlow folder a run trained on (set from --data as an absolute path; "
                              "kept for --resume and eval)")
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
