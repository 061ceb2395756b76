"""Experiment families end to end: every arm x seed trained on the funnel's days and evaluated on its test day,
the headline metric's mean ± sd per arm and its change against the first arm, a table and a plot.

- ``distribution-shift`` (coarse or rank): bce, sampling, all;
- ``auxiliary-ranking`` (coarse, or rank with DIN's auxiliary head): bce, aux;
- ``fs-ltr`` (coarse or rank): bce, fsltr;
- ``request-context`` (rank, DIN): bce, context;
- ``retrieval-negatives`` (SASRec): random, hard, fsltr - headline: recall of the hidden truth when the folder has
  one (generated), else Recall@1000.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.core.report import figure, markdown_table, mean_sd, save_figure, seeds_plot


@dataclass(frozen=True)
class Family:
    task: str
    arms: tuple[str, ...]
    field: str  # the train setting the arm sets: strategy or negatives
    either_stage: bool = False  # runs on train.task coarse (DSSM, the default) or rank (DIN)


FAMILIES = {"distribution-shift": Family("coarse", ("bce", "sampling", "all"), "strategy", True),
            "auxiliary-ranking": Family("coarse", ("bce", "aux"), "strategy", True),
            "fs-ltr": Family("coarse", ("bce", "fsltr"), "strategy", True),
            "retrieval-negatives": Family("retrieval", ("random", "hard", "fsltr"), "negatives"),
            "request-context": Family("rank", ("bce", "context"), "strategy")}


def headline(m: dict[str, Any]) -> tuple[str, float]:
    """The number an experiment compares arms by: Recall@100 (the released form) on the stage's official test
    table, over all logged test candidates with ``eval.candidates=logged``, or retrieval's hidden-truth recall
    (generated folders) / Recall@1000 over the exposed corpus."""
    if "test_table" in m:
        return f"Recall@100 on {Path(m['test_table']['file']).name}", m["test_table"]["recall"]["100"]
    if "logged" in m:
        return "Recall@100 over all logged test candidates", m["logged"]["all_stage"]["recall"]["100"]
    if "truth_recall" in m:
        return "hidden-truth recall (top-100)", m["truth_recall"]
    return "Recall@1000 over the exposed corpus", m["recall"]["1000"]


def family_report(rows: list[tuple[str, int, dict[str, Any]]], folder: Path) -> str:
    arms = list(dict.fromkeys(a for a, _, _ in rows))
    name = headline(rows[0][2])[0]
    by = {a: [headline(m)[1] for a2, _, m in rows if a2 == a] for a in arms}
    base = statistics.fmean(by[arms[0]])
    table = markdown_table(["arm", "mean ± sd", f"change vs {arms[0]}", "per seed"],
                           [[a, mean_sd(v, "{:.4f}"),
                             "-" if a == arms[0] else f"{statistics.fmean(v) - base:+.4f}",
                             ", ".join(f"{x:.4f}" for x in v)] for a, v in by.items()])
    fig, ax = figure()
    seeds_plot(ax, by)
    ax.set_ylabel(name)
    png = save_figure(fig, folder, "experiment")
    return "\n".join([f"Headline: {name}.", "", table, "", f"![experiment]({png})", ""])
