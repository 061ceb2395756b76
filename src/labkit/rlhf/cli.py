"""``labkit rlhf``: RLHF scaling sweeps on CPU (tiny policies, rule reward, TRL GRPO) and fitted curves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labkit.core.cli import ConfigOpt, ResumeOpt, SetOpt, resolve_config, settings_epilog, system_app
from labkit.core.config import to_dict
from labkit.rlhf.config import SweepConfig

app = system_app("RLHF scaling (Hou et al., arXiv:2412.06000): sweep a YAML grid of RL post-training runs "
                  "(tiny Llama policies; rule reward or learned RMs: MiniLM Bradley-Terry, fine-tuned tiny Llamas; "
                  "GRPO/RLOO from TRL, REINFORCE at n = 1), fit gains against each axis, check the paper's findings, "
                  "export a point to OpenRLHF/verl.")
SETTINGS = settings_epilog(SweepConfig)
RunArg = Annotated[Path, typer.Argument(help="Run folder written by `labkit rlhf sweep`.")]


@app.command("sweep", epilog=SETTINGS)
def sweep_cmd(name: Annotated[str, typer.Option(help="Run name (folder suffix).")] = "sweep",
              config: ConfigOpt = None, overrides: SetOpt = None, resume: ResumeOpt = None) -> None:
    """Run every grid point once (one record each: accuracy before/after RL, gain, tokens, seconds), then fit."""
    from labkit.core.errors import LabkitError
    from labkit.core.runs import resume_run, start_run
    from labkit.rlhf.grid import expand
    from labkit.rlhf.method import run_sweep

    cfg = resolve_config(SweepConfig, config, overrides, resume)
    points = expand(cfg)  # bad grids fail here, before a run folder exists
    run = resume_run(resume) if resume else start_run("rlhf", name, to_dict(cfg))
    typer.echo(f"run: {run.dir} ({len(points)} points)", err=True)
    done = run_sweep(cfg, run)
    failed = [r for r in done.values() if not r.get("ok")]
    if failed:
        typer.echo(f"{len(failed)} point(s) failed; first: {failed[0].get('error')}", err=True)
    if failed and len(failed) == len(done):
        raise LabkitError(f"every point failed ({len(failed)}); first: {failed[0].get('error')}")
    _report(run.dir)


@app.command("fit")
def fit_cmd(source: Annotated[Path, typer.Argument(help="A sweep run folder, or a CSV / JSON-lines file of points "
                                                        "from any trainer: one row per (setting, seed) with the "
                                                        "axis column (e.g. n), seed, and gain or accuracy "
                                                        "[, accuracy_before] [, algorithm].")],
            axis: Annotated[str | None, typer.Option(help="The x column of a file (default: its only axis column: "
                                                          "n, prompts, rm_prompts, task_size, kl, lr, epochs).")]
            = None,
            out: Annotated[Path | None, typer.Option(help="Folder for fit.json, fit.md and the plots (default: the "
                                                          "run folder, or a new runs/rlhf/<time>-fit for a file).")]
            = None) -> None:
    """Curves only: fit y = a + b log x and y = y_inf - c x^-k along every numeric axis (bootstrap CIs, degenerate
    fits flagged), the plateau, and whether the gain per doubling of n falls (bootstrap over seeds). Writes fit.json,
    fit.md and one plot per axis; never touches a run's report.md (that is `report`)."""
    import json

    from labkit.core.runs import start_run
    from labkit.rlhf.analysis import analyse, concavity, findings_markdown
    from labkit.rlhf.data import read_points, read_run

    if source.is_dir():
        records, _ = read_run(source)
        y_name, folder = "gain over SFT", out or source
    else:
        records, axis, y_name = read_points(source, axis)  # checked whole before any folder is made
        folder = out or start_run("rlhf", "fit", {"source": str(source), "axis": axis, "y": y_name}).dir
    folder.mkdir(parents=True, exist_ok=True)
    text, metrics = analyse(records, folder=folder)
    rows = [concavity(records)] if any(r["axis"] == "n" or r["axis"] is None for r in records) else []
    (folder / "fit.json").write_text(json.dumps({"source": str(source), "y": y_name, "points": len(records),
                                                 "axes": metrics, "findings": rows}, indent=1, default=str))
    md = f"# Fitted curves of {source}\n\ny = {y_name}; {len(records)} points.\n\n{text}\n" + (
        f"\n{findings_markdown(rows)}\n" if rows else "")
    (folder / "fit.md").write_text(md)
    typer.echo(md)
    typer.echo(f"fit: {folder / 'fit.md'}")


def _report(folder: Path) -> None:
    from labkit.rlhf.report import sweep_report

    typer.echo(sweep_report(folder))
    typer.echo(f"report: {folder / 'report.md'}")


@app.command("report")
def report_cmd(run: RunArg) -> None:
    """A sweep run's report.md and metrics.json: each of the paper's findings as consistent / inconsistent /
    inconclusive / not tested (the gain per doubling of n falls, bootstrap over seeds within one algorithm; a bigger
    RM (rm-m vs rm-s) does not hurt and the larger policy gains no more, each from the 95% interval over seeds with
    a 0.02 non-inferiority margin), then the fitted curves."""
    _report(run)


@app.command("export")
def export_cmd(engine: Annotated[str, typer.Option(help="openrlhf or verl.")],
               point: Annotated[str | None, typer.Option(help="Point id (default: the base point, seed 0).")] = None,
               policy: Annotated[str, typer.Option(help="Policy path on the GPU machine.")] = "<policy path>",
               prompts: Annotated[str, typer.Option(help="Prompt data on the GPU machine.")] = "<prompt data>",
               config: ConfigOpt = None, overrides: SetOpt = None, resume: ResumeOpt = None) -> None:
    """Print one grid point as an OpenRLHF or verl launch command with the same n, KL, learning rate and batch
    sizes as the TRL run, in that engine's own names (vLLM rollouts)."""
    from labkit.core.errors import ConfigError
    from labkit.rlhf.export import ENGINES
    from labkit.rlhf.grid import expand

    if engine not in ENGINES:
        raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}")
    points = expand(resolve_config(SweepConfig, config, overrides, resume))
    chosen = next((p for p in points if p.id == point), None) if point else points[0]
    if chosen is None:
        raise ConfigError(f"no point {point!r} in this grid (ids: {', '.join(p.id for p in points[:5])}...)")
    typer.echo(f"# point {chosen.id} ({chosen.axis or 'base'}): {chosen.settings.__dict__}")
    typer.echo(ENGINES[engine](chosen.settings, policy=policy, prompts=prompts))


def demo(folder: Path) -> str:
    from labkit.rlhf.demo import run_demo

    return run_demo(folder)
