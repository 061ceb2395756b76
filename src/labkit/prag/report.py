"""Report for ``labkit prag eval``: a table and a plot of F1 and latency per mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.core.report import figure, markdown_table, save_figure


def eval_report(table: dict[str, Any], folder: Path, title: str) -> str:
    modes = list(table)
    fig, (a1, a2) = figure(8, 3, ncols=2)
    a1.bar(modes, [table[m]["f1"] for m in modes], color="C0")
    a1.set_ylabel("F1")
    a1.set_ylim(0, 1)
    a2.bar(modes, [table[m]["latency_s"] for m in modes], color="C1")
    a2.set_ylabel("seconds per question")
    plot = save_figure(fig, folder, "modes")
    rows = [[m, table[m]["questions"], table[m]["em"], table[m]["f1"], table[m]["latency_s"],
             table[m]["load_merge_s"], table[m]["prompt_tokens"], table[m]["failed"]] for m in modes]
    return (f"# PRAG evaluation: {title}\n\n"
            + markdown_table(["mode", "questions", "EM", "F1", "s/question", "load+merge s", "prompt tokens",
                              "failed"], rows) + f"\n![modes]({plot})\n")
