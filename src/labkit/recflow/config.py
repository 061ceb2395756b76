"""RecFlow settings with the paper's defaults (Liu et al., ICLR 2025, arXiv:2410.20868; the brief's Sec. 2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit.core.config import option


@dataclass
class GenerateConfig:
    users: int = option(1000, "Users (the release: 42K)")
    days: int = option(4, "Days; the last one is the test day (the release: 37, test day 2024-02-18)")
    videos: int | None = option(None, "Videos in the hidden corpus (None: 20 per user; the release: 8.7M)")
    requests_per_day: float = option(3.0, "Mean requests per user and day (the release: about 6)")
    seed: int = option(0, "Seed of the hidden world and the logs")


@dataclass
class RecflowConfig:
    generate: GenerateConfig = field(default_factory=GenerateConfig)
