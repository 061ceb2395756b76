"""Report helpers: markdown tables and PNG plots saved beside ``report.md``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def figure(width: float = 6.0, height: float = 4.0, ncols: int = 1) -> tuple[Any, Any]:
    """A matplotlib figure and its axes (a tuple when ncols > 1) on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(width, height))


def save_figure(fig: Any, folder: str | Path, name: str) -> str:
    """Save ``fig`` as ``<folder>/<name>.png``; return the file name for a markdown link."""
    import matplotlib.pyplot as plt

    path = Path(folder) / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table (floats to 4 significant digits, pipes escaped)."""
    def cell(v: Any) -> str:
        text = f"{v:.4g}" if isinstance(v, float) else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def mean_sd(values: Sequence[float], fmt: str = "{:.1f}") -> str:
    """``mean ± sd`` over seeds (sample sd; 0 for one value), each number written with ``fmt``; "-" for none."""
    import statistics

    if not len(values):
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{fmt.format(statistics.fmean(values))} ± {fmt.format(sd).lstrip('+')}"


def seeds_plot(ax: Any, groups: dict[str, Sequence[float]], colors: Sequence[str] | None = None) -> None:
    """One bar per group at its mean over seeds, with every seed's value as a point on it."""
    import statistics

    for i, vals in enumerate(groups.values()):
        color = colors[i % len(colors)] if colors else None
        ax.bar(i, statistics.fmean(vals) if len(vals) else 0.0, color=color, alpha=0.6)
        ax.scatter([i] * len(vals), vals, color="k", s=12, zorder=3)
    ax.set_xticks(range(len(groups)), list(groups))
