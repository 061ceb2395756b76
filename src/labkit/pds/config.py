"""PDS settings with the paper's defaults (Gu et al., ICLR 2025, arXiv:2410.07064)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class ToyConfig:
    d: int = option(20, "Features of the logistic toy (README, PDS: 20)", ge=1)
    n: int = option(400, "Training examples (README, PDS: 400)", ge=2)
    dev: int = option(200, "Clean development examples: the target J", ge=1)
    flip: float = option(0.245, "Share of training labels flipped (README, PDS: 24.5%)", ge=0, le=1)
    steps: int = option(200, "Full-batch gradient steps T (README, PDS: 200)", ge=1)
    eta: float = option(2.0, "Step size (README, PDS: 2)", gt=0)
    seed: int = option(0, "Seed of the data", ge=0)


@dataclass
class LmConfig:
    proxy: str = option("xs", "Proxy LM: xs (a tiny Llama over bytes), smollm2 (the embedded model, short sequences), "
                        "hf:<dir> (paper: a 160M model)")
    trainable: str | None = option(None, "Regex of the proxy's trained parameter names (None: all; for smollm2 e.g. "
                                   "'layers\\.29\\.' keeps the co-state to one layer)")
    proxy_n: int = option(256, "Corpus documents in the proxy set (paper: 160K)", ge=2)
    target_n: int = option(64, "Target documents in J (paper: LIMA's 1,030 conversations)", ge=1)
    seq_len: int = option(64, "Tokens per proxy document (paper: 1,024)", ge=2)
    eta: float = option(0.3, "Proxy learning rate of the full-batch gradient steps", gt=0)
    warmup: int = option(300, "Plain AdamW steps on corpus text before the PMP window, for the tiny proxies trained "
                         "from scratch (the paper's proxy is its baseline LM at step 10K of 100K; pretrained proxies "
                         "are not warmed up); 0 = the random init", ge=0)
    steps: int = option(60, "Proxy gradient steps T (paper: 100)", ge=1)
    chunk: int = option(64, "Documents per batched call in the solver (exact sums; bounds activation memory)", ge=1)
    seed: int = option(0, "Seed of the proxy sample and model", ge=0)


@dataclass
class ScorerConfig:
    head: Literal["ridge", "finetune", "auto"] = option(
        "ridge", "ridge: MiniLM embeddings + ridge (scikit-learn); finetune: a MiniLM regression head fine-tuned "
        "(the paper's 125M Fairseq-Dense data scorer, smaller); auto: both, keep the better validation Spearman")
    normalise: Literal["zclip", "raw"] = option(
        "zclip", "Targets the scorer learns: zclip = the solver's scores z-scored and clipped to [-3, 3] (the "
        "released pipeline, so tau means the same on every corpus), raw = as the solver gave them")
    val_share: float = option(0.2, "Share of the scored proxy documents held out for the validation Spearman",
                              gt=0, lt=1)
    seed: int = option(0, "Seed of the validation split", ge=0)


@dataclass
class PretrainConfig:
    size: str = option("s", "Tiny Llama trained from scratch on each subset (paper: 160M to 1.7B)")
    steps: int = option(300, "Optimiser steps; both subsets get the same steps x batch x seq_len tokens", ge=1)
    batch: int = option(16, "Blocks per step", ge=1)
    seq_len: int = option(64, "Tokens per packed block", ge=2)
    lr: float = option(3e-3, "AdamW learning rate", gt=0)
    eval_every: int = option(25, "Target loss every N steps", ge=1)
    seeds: int = option(1, "Training seeds per subset (same seeds for both)", ge=1)


@dataclass
class PdsConfig:
    toy: ToyConfig = field(default_factory=ToyConfig)
    lm: LmConfig = field(default_factory=LmConfig)
    scorer: ScorerConfig = field(default_factory=ScorerConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    mode: Literal["exact", "paper"] = option(
        "paper", "exact: T_o outer epochs with the normalised step and simplex projection; paper: one epoch from "
        "uniform weights, raw scores (the released pipeline)")
    epochs: int = option(8, "Outer epochs T_o in exact mode", ge=1)
    step: float = option(0.5, "Normalised outer step: alpha = step * (1/N) / max|s|", gt=0)
    interval: int = option(1, "Accumulate the score every k-th step (paper: 10 with T = 100)", ge=1)
    cosine: bool = option(False, "Cosine-normalised scores (magnitude-insensitive; the noisy-label variant)")
    r: float = option(0.4, "Share kept by the selector (paper 0.4)", gt=0, le=1)
    tau: float = option(0.1, "Gumbel-top-k temperature (paper 0.1)", gt=0)
    select_seed: int = option(0, "Seed of the selector's Gumbel noise", ge=0)
    random_seeds: int = option(3, "Random subsets of the same size to compare against", ge=1)
