"""Reports: scores per dimension / aspect / sparse-dense / overall, the leaderboard, a radar plot, and the
judge-vs-human agreement tables."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from labkit.character.eval import agreement_row, leaderboard
from labkit.character.rubrics import RUBRICS
from labkit.core.report import markdown_table, save_figure


def _f(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def radar(board: list[tuple[str, dict[str, Any]]], folder: Path, name: str = "radar") -> str:
    """One polygon per system over the dimensions scored (0-5)."""
    spokes = sorted({d for _, s in board for d in s["dimensions"]})
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6.5, 5.5))
    ax = fig.add_subplot(111, polar=True)
    angles = np.linspace(0, 2 * np.pi, len(spokes), endpoint=False).tolist()
    for model, s in board[:10]:
        values = [s["dimensions"].get(d, 0.0) for d in spokes]
        ax.plot(angles + angles[:1], values + values[:1], label=model, linewidth=1.2)
        ax.fill(angles + angles[:1], values + values[:1], alpha=0.05)
    ax.set_xticks(angles)
    ax.set_xticklabels([d.replace("_", "\n") for d in spokes], fontsize=7)
    ax.set_ylim(0, 5)
    ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.35, 1.1))
    return save_figure(fig, folder, name)


def scores_section(records: list[dict[str, Any]], folder: Path) -> tuple[str, dict[str, Any]]:
    """Leaderboard and per-dimension table from judged records ``{file, model, score, gold?}``."""
    valid = [r for r in records if r.get("score") is not None]
    board = leaderboard(valid)
    dims = sorted({d for _, s in board for d in s["dimensions"]})
    rows = [[m, s["records"], _f(s["overall"]), _f(s["upstream_overall"])] + [_f(s["dimensions"].get(d)) for d in dims]
            for m, s in board]
    lines = ["## Leaderboard", "",
             "Scores on a 0-5 scale: record score / rubric maximum x 5, averaged per file, per dimension, then "
             "overall with equal weight per dimension. `upstream` is the original formula (mean / largest gold in the "
             "file x 5, equal weight per file).", "",
             markdown_table(["system", "records", "overall", "upstream"] + dims, rows)]
    if board:
        lines += [f"![radar]({radar(board, folder)})", ""]
        first = board[0][1]
        aspect_rows = [[m] + [_f(s["aspects"].get(a)) for a in first["aspects"]] +
                       [_f(s["kinds"].get(k)) for k in ("sparse", "dense")] for m, s in board]
        lines += ["Per aspect and sparse vs dense:", "",
                  markdown_table(["system"] + list(first["aspects"]) + ["sparse", "dense"], aspect_rows)]
    return "\n".join(lines), {m: s for m, s in board}


def agreement_section(records: list[dict[str, Any]], n_boot: int, label: str = "judge") -> tuple[str, dict]:
    """Correlations with human gold per file and language (records with gold and a valid score)."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get("gold") is not None and r.get("score") is not None:
            cells[(r["file"], r["lang"])].append(r)
    out, rows = {}, []
    for (file, lang), rs in sorted(cells.items()):
        row = agreement_row([r["gold"] for r in rs], [r["score"] for r in rs], RUBRICS[file].scale, n_boot=n_boot)
        out[f"{file}/{lang}"] = row
        ci = row.get("pearson_ci", [math.nan, math.nan])
        rows.append([file, lang, row["n"], f"{_f(row['pearson'], 3)} [{_f(ci[0], 2)}, {_f(ci[1], 2)}]",
                     _f(row["spearman"], 3), _f(row["kendall"], 3), _f(row["qwk"], 3), _f(row["exact"], 3),
                     _f(row["mean_gold"]), _f(row["mean_pred"])])
    if not rows:
        return "", out
    text = "\n".join([f"## Agreement of {label} with human scores", "",
                      markdown_table(["file", "lang", "n", "pearson [95% CI]", "spearman", "kendall", "qwk", "exact",
                                      "mean gold", "mean pred"], rows)])
    return text, out


def counts_line(records: list[dict[str, Any]], failed: int = 0) -> str:
    invalid = [r for r in records if r.get("score") is None]
    first = f" (first: {invalid[0].get('error')})" if invalid else ""
    return (f"{len(records)} records judged; {len(invalid)} without a valid score, recorded and left out of the "
            f"scores{first}; {failed} failed in the harness.")
