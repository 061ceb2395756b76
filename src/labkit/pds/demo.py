"""PDS quick demo: PMP scores on the noisy-label logistic toy (paper defaults, float64, seconds on a CPU)."""

from __future__ import annotations

from pathlib import Path

from labkit.core.cli import resolve_config
from labkit.pds.config import PdsConfig
from labkit.pds.report import toy_report


def run_demo(folder: Path) -> str:
    cfg = resolve_config(PdsConfig, None, [], None)
    text, _ = toy_report(cfg, folder)
    return "## PDS: PMP data scores on the noisy-label toy\n\n" + text.replace(
        "](scores_clean_vs_flipped", f"]({folder.name}/scores_clean_vs_flipped")
