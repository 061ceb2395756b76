"""``labkit ugc``: equilibrium, beta sweep, bilevel optimisation and U-V frontier of the creator game."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labkit.core.cli import (
    ConfigOpt,
    NameOpt,
    ResumeOpt,
    SetOpt,
    overrides_from,
    resolve_config,
    settings_epilog,
    system_app,
)
from labkit.core.config import to_dict
from labkit.ugc.config import UgcConfig

app = system_app("Creator competition (Yao et al., NeurIPS 2024, arXiv:2410.23683): PNE of the content "
                  "game, U-V trade-off over exploration strength beta, bilevel beta optimisation.")

SETTINGS = settings_epilog(UgcConfig)

EnvOpt = Annotated[str | None, typer.Option("--env", help=(
    "synthetic (default), a relevance matrix users x creators (.npy/.npz/.csv), or MovieLens ratings "
    "(userId,movieId,rating[,timestamp] .csv, ratings.dat, u.data)."))]
NOpt = Annotated[int | None, typer.Option("--n", help="Synthetic creators (suggested 50).")]
MOpt = Annotated[int | None, typer.Option("--m", help="Synthetic users (suggested 500).")]
DOpt = Annotated[int | None, typer.Option("--d", help="Synthetic embedding dimension (suggested 8).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Environment seed (sweeps use seed, seed+1, ...).")]
CostsOpt = Annotated[Path | None, typer.Option("--costs", help="One cost coefficient per creator (.npy/.csv), > 0.")]


def _config(config: Path | None, overrides: list[str] | None, resume: Path | None, **given: Any) -> UgcConfig:
    keys = {"env": "env.source", "n": "env.n", "m": "env.m", "d": "env.d", "seed": "env.seed",
            "costs": "env.costs", "lam": "optim.lam", "per_user": "optim.per_user", "steps": "optim.steps"}
    cfg = resolve_config(UgcConfig, config, overrides_from(given, keys) + list(overrides or []), resume)
    _check_pairs(cfg)
    return cfg


def _check_pairs(cfg: UgcConfig) -> None:
    """Ranges that involve two keys, checked before any work (single-key ranges are the config's own)."""
    from labkit.core.errors import ConfigError

    o = cfg.optim
    pairs = [("env.cost_low", cfg.env.cost_low, "env.cost_high", cfg.env.cost_high),
             ("optim.beta_min", o.beta_min, "optim.beta_max", o.beta_max)]
    if o.init_beta is not None:
        pairs += [("optim.beta_min", o.beta_min, "optim.init_beta", o.init_beta),
                  ("optim.init_beta", o.init_beta, "optim.beta_max", o.beta_max)]
    for low_name, low, high_name, high in pairs:
        if low > high:
            raise ConfigError(f"config: '{low_name}' ({low:g}) must not exceed '{high_name}' ({high:g})")


def _start(cfg: UgcConfig, command: str, name: str | None, resume: Path | None):  # noqa: ANN202 - Run
    from labkit.core.runs import resume_run, start_run

    run = resume_run(resume) if resume else start_run("ugc", name or command, to_dict(cfg) | {"command": command})
    typer.echo(f"run: {run.dir}", err=True)
    return run


@app.command("equilibrium", epilog=SETTINGS)
def equilibrium_cmd(env: EnvOpt = None, beta: Annotated[float | None, typer.Option(
        help="Exploration strength (0: volume-proportional; large: top relevance). Default 2.")] = None,
        n: NOpt = None, m: MOpt = None, d: DOpt = None, seed: SeedOpt = None, costs: CostsOpt = None,
        name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Solve the pure Nash equilibrium at one beta; print U, V, active creators, iterations, KKT residual and
    exploitability; write histograms of creator frequencies and user utilities."""
    import numpy as np

    from labkit.ugc.envs import make_environment
    from labkit.ugc.method import make_game, save_array, solve
    from labkit.ugc.report import equilibrium_report

    cfg = _config(config, overrides, None, env=env, beta=beta, n=n, m=m, d=d, seed=seed, costs=costs)
    environment = make_environment(cfg.env)  # bad files fail here, before a run folder exists
    run = _start(cfg, "equilibrium", name, None)
    out = solve(environment, cfg.beta, make_game(cfg), cfg, keep_pi=True)
    summary = out.summary() | {"creators": environment.n, "users": environment.m}
    run.append({"key": "equilibrium", "ok": True, "value": summary})
    save_array(run.dir / "equilibrium.npz", x=out.eq.x, pi=out.pi, costs=environment.costs)
    run.write_metrics(summary)
    run.write_report(equilibrium_report(cfg, run.dir, environment.source, summary, out.eq.x, np.asarray(out.pi)))
    typer.echo(f"U {out.u:.6g}  V {out.v:.6g}  active creators {summary['active']}/{environment.n}  "
               f"iterations {out.eq.iterations} ({out.eq.method})  KKT residual {out.eq.kkt_residual:.2e}  "
               f"exploitability {out.exploitability:.2e}")
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("sweep", epilog=SETTINGS)
def sweep_cmd(env: EnvOpt = None,
              beta: Annotated[str | None, typer.Option(help="Comma-separated beta grid (suggested 0,1,2,5,10,20).")
                              ] = None,
              seeds: Annotated[int | None, typer.Option(help="Independently generated environments (paper: 10).")
                               ] = None,
              n: NOpt = None, m: MOpt = None, d: DOpt = None, seed: SeedOpt = None, costs: CostsOpt = None,
              workers: Annotated[int | None, typer.Option(help="Parallel environments (threads; Ray with --ray).")
                                 ] = None,
              name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
              resume: ResumeOpt = None) -> None:
    """U(beta) and V(beta) with error bars over environments, and the trade-off audit (U up, V down)."""
    from labkit.ugc.envs import make_environment
    from labkit.ugc.method import sweep_run
    from labkit.ugc.report import sweep_report

    cfg = _config(config, overrides, resume, env=env, betas=f"[{beta}]" if beta else None, seeds=seeds, n=n, m=m,
                  d=d, seed=seed, costs=costs, workers=workers)
    if cfg.env.source != "synthetic" or cfg.env.costs:
        make_environment(cfg.env)  # check the files before a run folder exists
    run = _start(cfg, "sweep", name, resume)
    results = sweep_run(cfg, run)
    text, metrics = sweep_report(cfg, run.dir, results)
    run.write_metrics(metrics)
    run.write_report(text)
    for k, b in enumerate(metrics["betas"]):
        typer.echo(f"beta {b:>6g}: U {metrics['U_mean'][k]:.5g} ± {metrics['U_ci95'][k]:.2g}   "
                   f"V {metrics['V_mean'][k]:.5g} ± {metrics['V_ci95'][k]:.2g}")
    typer.echo(f"U increasing in {metrics['U_increasing_count']}/{metrics['environments']} environments, "
               f"V decreasing in {metrics['V_decreasing_count']}/{metrics['environments']}; "
               f"max exploitability {metrics['max_exploitability']:.2e}")
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("optimize", epilog=SETTINGS)
def optimize_cmd(lam: Annotated[float | None, typer.Option("--lambda", help="lambda in W = U + lambda V (default 4).")
                                ] = None,
                 per_user: Annotated[bool | None, typer.Option("--per-user/--global", help=(
                     "Also optimise one beta per user (paper's personalised exploration)."))] = None,
                 steps: Annotated[int | None, typer.Option(help="Projected gradient iterations (default 100).")] = None,
                 env: EnvOpt = None, n: NOpt = None, m: MOpt = None, d: DOpt = None, seed: SeedOpt = None,
                 costs: CostsOpt = None, name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
                 resume: ResumeOpt = None) -> None:
    """Maximise W = U + lambda V over one global beta (and one per user) by projected gradient ascent
    with implicit-function gradients; plot W over iterations and per-user beta against relevance."""
    from labkit.ugc.envs import make_environment
    from labkit.ugc.method import optimize_run
    from labkit.ugc.report import optimize_report

    cfg = _config(config, overrides, resume, lam=lam, per_user=per_user, steps=steps, env=env, n=n, m=m, d=d,
                  seed=seed, costs=costs)
    environment = make_environment(cfg.env)
    run = _start(cfg, "optimize", name, resume)
    result = optimize_run(cfg, run, environment)
    text, metrics = optimize_report(cfg, run.dir, result)
    run.write_metrics(metrics)
    run.write_report(text)
    typer.echo(f"best grid beta {metrics['grid_best_beta']:g}: W {metrics['grid_best_W']:.6g}")
    typer.echo(f"global beta {metrics['global_beta']:.4g}: W {metrics['global_W']:.6g}")
    if "per_user_W" in metrics:
        typer.echo(f"per-user beta: W {metrics['per_user_W']:.6g} ({metrics['per_user_gain_percent']:+.3g}% "
                   "over the best grid beta; "
                   f"{metrics['per_user_gain_over_global']:+.4g} W over the best global beta)")
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("frontier", epilog=SETTINGS)
def frontier_cmd(lambdas: Annotated[str | None, typer.Option(help="Comma-separated lambda values.")] = None,
                 per_user: Annotated[bool | None, typer.Option("--per-user/--global", help=(
                     "Also the per-user-beta optimum for each lambda."))] = None,
                 env: EnvOpt = None, n: NOpt = None, m: MOpt = None, d: DOpt = None, seed: SeedOpt = None,
                 costs: CostsOpt = None, name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
                 resume: ResumeOpt = None) -> None:
    """The U-V Pareto curve over global beta with the W-maximising beta recommended for each lambda."""
    from labkit.ugc.envs import make_environment
    from labkit.ugc.method import frontier_run
    from labkit.ugc.report import frontier_report

    cfg = _config(config, overrides, resume, lambdas=f"[{lambdas}]" if lambdas else None, per_user=per_user,
                  env=env, n=n, m=m, d=d, seed=seed, costs=costs)
    environment = make_environment(cfg.env)
    run = _start(cfg, "frontier", name, resume)
    result = frontier_run(cfg, run, environment)
    text, metrics = frontier_report(cfg, run.dir, result)
    run.write_metrics(metrics)
    run.write_report(text)
    for p in result["points"]:
        extra = f"   per-user W {p['per_user']['W']:.6g}" if "per_user" in p else ""
        typer.echo(f"lambda {p['lambda']:>5g}: beta {p['beta']:.4g}  U {p['U']:.5g}  V {p['V']:.5g}{extra}")
    typer.echo(f"report: {run.dir / 'report.md'}")


def demo(folder: Path) -> str:
    from labkit.ugc.demo import run_demo

    return run_demo(folder)


if __name__ == "__main__":
    app()
