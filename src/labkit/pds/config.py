"""PDS settings with the paper's defaults (Gu et al., ICLR 2025, arXiv:2410.07064; the brief's Sec. 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class ToyConfig:
    d: int = option(20, "Features of the logistic toy (brief: 20)")
    n: int = option(400, "Training examples (brief: 400)")
    dev: int = option(200, "Clean development examples: the target J")
    flip: float = option(0.245, "Share of training labels flipped (brief: 24.5%)")
    steps: int = option(200, "Full-batch gradient steps T (brief: 200)")
    eta: float = option(2.0, "Step size (brief: 2)")
    seed: int = option(0, "Seed of the data")


@dataclass
class PdsConfig:
    toy: ToyConfig = field(default_factory=ToyConfig)
    mode: Literal["exact", "paper"] = option(
        "paper", "exact: T_o outer epochs with the normalised step and simplex projection; paper: one epoch from "
        "uniform weights, raw scores (the released pipeline)")
    epochs: int = option(8, "Outer epochs T_o in exact mode")
    step: float = option(0.5, "Normalised outer step: alpha = step * (1/N) / max|s|")
    interval: int = option(1, "Accumulate the score every k-th step (paper: 10 with T = 100)")
    cosine: bool = option(False, "Cosine-normalised scores (magnitude-insensitive; the noisy-label variant)")
    r: float = option(0.4, "Share kept by the selector (paper 0.4)")
    tau: float = option(0.1, "Gumbel-top-k temperature (paper 0.1)")
    select_seed: int = option(0, "Seed of the selector's Gumbel noise")
    random_seeds: int = option(3, "Random subsets of the same size to compare against")
