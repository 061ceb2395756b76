"""``labkit safety``: run agents through Agent-SafetyBench cases, report scores, show trajectories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labkit.core.cli import (
    ConfigOpt,
    NameOpt,
    ResumeOpt,
    SetOpt,
    model_option,
    overrides_from,
    resolve_config,
    settings_epilog,
    system_app,
)
from labkit.core.config import to_dict
from labkit.safety.config import SafetyConfig

app = system_app("Agent-SafetyBench (Zhang et al., arXiv:2412.14470): tool-using agents in simulated "
                  "environments, judged safe or unsafe.")

SETTINGS = settings_epilog(SafetyConfig)
RunArg = Annotated[Path, typer.Argument(help="Run folder written by `labkit safety run`.")]


def _config(config: Path | None, overrides: list[str] | None, resume: Path | None, **given: Any) -> SafetyConfig:
    keys = {"agent": "agent.model", "defence": "agent.defence", "protocol": "agent.protocol", "judge": "judges",
            "risk": "risks"}
    sets = overrides_from(given, keys, lists=("judge", "risk"))
    return resolve_config(SafetyConfig, config, sets + list(overrides or []), resume)


@app.command("run", epilog=SETTINGS)
def run_cmd(agent: model_option("--agent", "Agent model (the embedded one is plumbing only; paper: GPT-4o, "
                                 "Claude-3.5, Qwen2.5-7B, ...).") = None,
            judge: Annotated[str | None, typer.Option(help=(
                "Judge spec(s), comma-separated, first is primary: rule (pre-judge), or a model spec; faithful: "
                "openai:thu-coai/ShieldAgent@<vLLM url>. Default: rule."))] = None,
            cases: Annotated[Path | None, typer.Option(help=(
                "Cases in the upstream schema (released_data.json); default: the shared cases_dev.json."))] = None,
            environments: Annotated[Path | None, typer.Option(help=(
                "Folder of <Env>.json tool schemas (default: environments/ beside the cases)."))] = None,
            limit: Annotated[int | None, typer.Option(help="At most N cases, round-robin over risks.")] = None,
            risk: Annotated[list[str] | None, typer.Option(help="Only this risk category (repeatable).")] = None,
            defence: Annotated[str | None, typer.Option(help=(
                "Defence prompt: none (paper default), simple, detailed."))] = None,
            protocol: Annotated[str | None, typer.Option(help=(
                "Tool calling: auto (default), native, text."))] = None,
            epochs: Annotated[int | None, typer.Option(help="Episodes per case (pass^k when > 1; paper: 1).")] = None,
            workers: Annotated[int | None, typer.Option(help="Episodes in flight (default 8).")] = None,
            name: NameOpt = None,
            config: ConfigOpt = None, overrides: SetOpt = None, resume: ResumeOpt = None) -> None:
    """Run every case: the agent acts for at most 10 rounds, each judge labels the trajectory."""
    from labkit.core.runs import resume_run, start_run
    from labkit.safety.method import prepare_cases, run_safety

    cfg = _config(config, overrides, resume, agent=agent, judge=judge, cases=cases, environments=environments,
                  limit=limit, risk=risk, defence=defence, protocol=protocol, epochs=epochs, workers=workers)
    prepared = prepare_cases(cfg)  # bad input fails here, before a run folder exists
    run = resume_run(resume) if resume else start_run("safety", name or "run", to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    out = run_safety(cfg, run, prepared=prepared)
    if out["problems"]:
        typer.echo(f"{len(out['problems'])} malformed case(s) skipped; first: {out['problems'][0]} "
                   f"(all in {run.dir / 'problems.txt'})", err=True)
    _write_report(run.dir, cfg)


def _write_report(folder: Path, cfg: SafetyConfig) -> dict[str, Any]:
    from labkit.core.runs import resume_run
    from labkit.safety.method import episodes_of
    from labkit.safety.report import write_report

    run = resume_run(folder)
    episodes, failed = episodes_of(run.latest(), str(run.results_path))
    problems_file = folder / "problems.txt"
    problems = len(problems_file.read_text().splitlines()) if problems_file.exists() else 0
    text, metrics = write_report(folder, episodes, failed, cfg.judges, cfg.epochs, problems=problems)
    run.write_metrics(metrics)
    run.write_report(text)
    for judge, s in metrics["judges"].items():
        o = s["overall"]
        typer.echo(f"[{judge}] safety score {100 * o['score']:.1f}% (95% CI {100 * o['ci_low']:.1f}-"
                   f"{100 * o['ci_high']:.1f}) over {o['safe'] + o['unsafe']} judged of {o['episodes']} episodes; "
                   f"invalid {o['invalid']}, agent errors {o['agent_errors']}, round-limit {o['round_limit']}"
                   if o["safe"] + o["unsafe"] else f"[{judge}] no valid verdicts ({o['invalid']} invalid, "
                   f"{o['agent_errors']} agent errors)")
    typer.echo(f"report: {folder / 'report.md'}")
    return metrics


@app.command("report")
def report_cmd(run: RunArg) -> None:
    """Scores overall, per risk, per failure mode, behavioural vs content, fulfillable vs not (Wilson CIs)."""
    cfg = resolve_config(SafetyConfig, None, None, run)
    _write_report(run, cfg)


@app.command("show")
def show_cmd(run: RunArg, case_id: Annotated[int, typer.Argument(help="Case id.")],
             epoch: Annotated[int, typer.Option(help="Epoch to show.", min=0)] = 0,
             width: Annotated[int, typer.Option(help="Characters shown per message.", min=1)] = 1200) -> None:
    """Print one trajectory: user, tool calls with arguments, results, final answer, verdicts and analyses."""
    from labkit.core.errors import LabkitError
    from labkit.core.runs import resume_run
    from labkit.safety.method import check_episode
    from labkit.safety.report import format_trajectory

    opened = resume_run(run)
    record = opened.latest().get(f"{case_id}#{epoch}")
    if record is not None and record.get("ok"):
        check_episode(record.get("value"), record["key"], str(opened.results_path))
    if record is None:
        raise LabkitError(f"{run}: no episode for case {case_id} epoch {epoch}")
    if not record.get("ok"):
        raise LabkitError(f"{run}: case {case_id} failed in the harness: {record.get('error')}")
    typer.echo(format_trajectory(record["value"], width=width))


@app.command("specs")
def specs_cmd(out: Annotated[Path, typer.Option(help="Folder for <Env>.yaml drafts.")],
              cases: Annotated[Path | None, typer.Option(help="Cases file (default: the shared cases_dev.json).")
                               ] = None,
              environments: Annotated[Path | None, typer.Option(help="Folder of <Env>.json schemas.")] = None,
              fit: Annotated[Path | None, typer.Option(help=(
                  "Recorded upstream behaviour (upstream_behaviour_*.jsonl): fit specs to it instead of drafting "
                  "the heuristic's choices; only tools where a spec beats the heuristic are written."))] = None,
              embedder: Annotated[bool, typer.Option(help="Use MiniLM for near-synonym state keys.")] = True) -> None:
    """Write per-environment YAML specs: the heuristic's choice for every tool (to review), or specs fitted to
    recorded behaviour (--fit). Pass the folder as engine.specs."""
    from labkit.safety.engine import minilm_embedder
    from labkit.safety.specs import draft_specs

    if fit is None:
        written, unsure, problems = draft_specs(out, cases, environments, embedder=embedder)
        typer.echo(f"{written} environment spec(s) -> {out}; {unsure} tool(s) marked 'review' (heuristic fallback)")
    else:
        from labkit.safety.data import load_cases
        from labkit.safety.fidelity import read_records
        from labkit.safety.fit import fit_specs, write_specs

        loaded, schemas = load_cases(cases, environments)
        problems = loaded.problems
        fitted, counts = fit_specs(read_records(fit), {c.id: c for c in loaded.cases}, schemas,
                                   minilm_embedder() if embedder else None)
        written = write_specs(fitted, out)
        typer.echo(f"{counts['fitted']} of {counts['tools']} tool(s) fitted -> {written} environment spec(s) in {out}")
        left = {k: v for k, v in counts["left_out"].items() if v}
        if left:
            typer.echo("records not fitted: " + ", ".join(f"{v} {k}" for k, v in left.items()), err=True)
    if problems:
        typer.echo(f"{len(problems)} malformed case(s) skipped; first: {problems[0]}", err=True)


def demo(folder: Path) -> str:
    from labkit.safety.demo import run_demo

    return run_demo(folder)
