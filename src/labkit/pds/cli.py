"""``labkit pds``: PDS (Gu et al., ICLR 2025, arXiv:2410.07064) - data selection by optimal control."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labkit.core.cli import ConfigOpt, SetOpt, resolve_config
from labkit.core.config import describe, to_dict
from labkit.pds.config import PdsConfig

app = typer.Typer(help="PDS (Gu et al., ICLR 2025, arXiv:2410.07064): PMP data scores with torch.func and "
                  "Gumbel-top-k selection. Built so far: the solver and selector on the noisy-label logistic toy "
                  "(`solve`); the tiny-LM proxy, the scorer, corpus scoring and pre-training comparison are not "
                  "built yet.", no_args_is_help=True)
SETTINGS = "Settings for --config / --set (default, meaning):\n\n" + "\n\n".join(
    f"{key} = {default!r}: {text}" for key, default, text in describe(PdsConfig))


@app.command("solve", epilog=SETTINGS)
def solve_cmd(mode: Annotated[str | None, typer.Option(help="paper (one epoch, raw scores) or exact (outer "
                                                           "loop).")] = None,
              name: Annotated[str | None, typer.Option(help="Run name (folder suffix).")] = None,
              config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """PMP scores on the noisy-label logistic toy (d 20, 400 examples, 24.5% flipped, T 200, eta 2): AUROC clean vs
    flipped, and the target-loss area of the top-r, Gumbel-top-r and random r subsets against all data."""
    from labkit.core.runs import start_run

    cfg = resolve_config(PdsConfig, config, ([f"mode={mode}"] if mode else []) + list(overrides or []), None)
    run = start_run("pds", name or "solve", to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    text, metrics = toy_report(cfg, run.dir)
    run.write_metrics(metrics)
    run.write_report(f"# PDS on the noisy-label toy\n\n{text}")
    typer.echo(text)
    typer.echo(f"report: {run.dir / 'report.md'}")


def toy_report(cfg: PdsConfig, folder: Path) -> tuple[str, dict[str, Any]]:
    import numpy as np

    from labkit.core.report import figure, markdown_table, save_figure
    from labkit.pds.method import solve_toy

    out = solve_toy(cfg)
    s, clean = np.array(out.pop("scores")), np.array(out.pop("clean"))
    fig, ax = figure()
    bins = np.linspace(s.min(), s.max(), 40)
    ax.hist(s[clean], bins=bins, alpha=0.6, label=f"clean ({clean.sum()})")
    ax.hist(s[~clean], bins=bins, alpha=0.6, label=f"flipped ({(~clean).sum()})")
    ax.set_xlabel("PMP score (-dA/dgamma_n)")
    ax.set_ylabel("examples")
    ax.legend()
    png = save_figure(fig, folder, "scores_clean_vs_flipped")
    pct = f"{cfg.r:.0%}"
    rows = [["all data", f"{out['area_all']:.1f}"], [f"top {pct} by score", f"{out['area_top']:.1f}"],
            [f"Gumbel-top {pct} (tau {cfg.tau:g})", f"{out['area_gumbel']:.1f}"],
            [f"random {pct} ({cfg.random_seeds} seeds)", f"{np.mean(out['area_random']):.1f} "
             f"(min {min(out['area_random']):.1f})"]]
    lines = [f"Mode {cfg.mode}; {out['n']} examples, {out['flipped']} labels flipped. Clean vs flipped AUROC of the "
             f"scores: {out['auroc']:.3f}; the top {pct} keeps {out['flipped_kept_top']} flipped examples.", "",
             "Area under the target loss over the T steps (lower is better):", "",
             markdown_table(["training data", "area"], rows), "", f"![scores]({png})", ""]
    if cfg.mode == "exact":
        lines.insert(2, "Outer loop areas: " + " -> ".join(f"{a:.1f}" for a in out["outer_areas"]) +
                     f" (gamma sums to {out['gamma_sum']:.12f}, min {out['gamma_min']:.2e}).\n")
    return "\n".join(lines), out


def demo(folder: Path) -> str:
    cfg = resolve_config(PdsConfig, None, [], None)
    text, _ = toy_report(cfg, folder)
    return "## PDS: PMP data scores on the noisy-label toy\n\n" + text.replace(
        "](scores_clean_vs_flipped", f"]({folder.name}/scores_clean_vs_flipped")
