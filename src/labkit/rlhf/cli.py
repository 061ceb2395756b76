"""``labkit rlhf``: RLHF scaling sweeps on CPU (tiny policies, rule reward, TRL GRPO) and fitted curves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labkit.core.cli import ConfigOpt, ResumeOpt, SetOpt, resolve_config
from labkit.core.config import describe, to_dict
from labkit.rlhf.config import SweepConfig

app = typer.Typer(help="RLHF scaling (Hou et al., arXiv:2412.06000): sweep a YAML grid of RL post-training runs, "
                  "fit gains against each axis. Built so far: tiny Llama policies, the exact-match rule reward on "
                  "synthetic tasks, GRPO (TRL); learned reward models, RLOO/PPO and GPU export are not built yet.",
                  no_args_is_help=True)
SETTINGS = "Settings for --config / --set (default, meaning):\n\n" + "\n\n".join(
    f"{key} = {default!r}: {text}" for key, default, text in describe(SweepConfig))
RunArg = Annotated[Path, typer.Argument(help="Run folder written by `labkit rlhf sweep`.")]


@app.command("sweep", epilog=SETTINGS)
def sweep_cmd(name: Annotated[str, typer.Option(help="Run name (folder suffix).")] = "sweep",
              config: ConfigOpt = None, overrides: SetOpt = None, resume: ResumeOpt = None) -> None:
    """Run every grid point once (one record each: accuracy before/after RL, gain, tokens, seconds), then fit."""
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
    _report(run.dir)


def _report(folder: Path) -> None:
    from labkit.core.runs import resume_run
    from labkit.rlhf.analysis import analyse

    run = resume_run(folder)
    records = [r["value"] for r in run.latest().values() if r.get("ok")]
    text, metrics = analyse(records, folder=folder)
    run.write_metrics({"points": len(records), "axes": metrics})
    run.write_report("# RLHF sweep\n\n" + text)
    typer.echo(text)
    typer.echo(f"report: {folder / 'report.md'}")


@app.command("fit")
def fit_cmd(run: RunArg) -> None:
    """Fit y = a + b log x and y = y_inf - c x^-k to the gain along every numeric axis (bootstrap CIs), find the
    plateau, write report.md, metrics.json and one plot per axis."""
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
