"""Report for ``labkit prag eval``: a table and a plot of F1 and latency per mode, the adapters' merge weights by
retrieval rank, and F1 / contained per question type."""

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
    rows = [r + [table[m]["contained"]] for r, m in zip(rows, modes, strict=True)]
    text = (f"# PRAG evaluation: {title}\n\n"
            + markdown_table(["mode", "questions", "EM", "F1", "s/question", "load+merge s", "prompt tokens",
                              "failed", "contained"], rows) + f"\n![modes]({plot})\n")
    weighted = [m for m in modes if table[m].get("merge_weights_by_rank")]
    if weighted:
        text += ("\n## Adapter weights\n\nThe weight each retrieved passage's adapter got in the merge, by retrieval "
                 "rank (mean over answers), and the median weight of the top one:\n\n"
                 + markdown_table(["mode", "answers", "mean weight by rank", "median top weight"],
                                  [[m, table[m]["answers_with_adapters"],
                                    " / ".join(f"{w:.3f}" for w in table[m]["merge_weights_by_rank"]),
                                    table[m]["top_weight_median"]] for m in weighted]))
    types = sorted({t for m in modes for t in table[m].get("by_type", {})})
    if types:
        text += ("\n## By question type\n\nF1, and answer-contained accuracy in brackets:\n\n"
                 + markdown_table(["type", "questions"] + modes,
                                  [[t, table[modes[0]]["by_type"][t]["questions"]]
                                   + [f"{table[m]['by_type'][t]['f1']:.3f} ({table[m]['by_type'][t]['contained']:.3f})"
                                      for m in modes] for t in types]))
    return text
