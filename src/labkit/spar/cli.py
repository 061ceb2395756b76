"""``labkit spar``: SPaR (Cheng et al., ICLR 2025, arXiv:2412.11605) - an offline IFEval, training prompts, the
refiner's judgments and its tree-search refinement."""

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
from labkit.spar.config import SparConfig

app = system_app("SPaR (Cheng et al., ICLR 2025, arXiv:2412.11605): self-play tree-search refinement for "
                  "instruction following: an offline IFEval, training prompts with verifiable constraints, the "
                  "refiner's judgments and tree search, and the whole iteration (`iterate`: samples, refinements, "
                  "DPO pairs, the refiner's RFT data, TRL DPO, evaluation before and after).")


def _config(config: Path | None, overrides: list[str] | None, resume: Path | None, **given: Any) -> SparConfig:
    keys = {"model": "ifeval.model", "data": "ifeval.data", "limit": "ifeval.limit", "max_tokens": "ifeval.max_tokens"}
    return resolve_config(SparConfig, config, overrides_from(given, keys) + list(overrides or []), resume)


@app.command("ifeval", epilog=settings_epilog(SparConfig, "ifeval"))
def ifeval_cmd(responses: Annotated[Path | None, typer.Option(help=(
                   "Response file to score: JSON lines {\"prompt\", \"response\"} (IFEval's own format)."))] = None,
               model: model_option("--model", "Answer the prompts with this model first.", short="-m") = None,
               data: Annotated[Path | None, typer.Option(help="IFEval input_data.jsonl.")] = None,
               limit: Annotated[int | None, typer.Option(help="Only the first N prompts.")] = None,
               max_tokens: Annotated[int | None, typer.Option(help="New tokens per response (default 1280).")] = None,
               name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
               resume: ResumeOpt = None) -> None:
    """IFEval with the official checkers, offline: prompt- and instruction-level accuracy, strict and loose, their
    average, per instruction type, and the failing instructions. Seeds fixed; results identical run to run."""
    from labkit.core.errors import ConfigError
    from labkit.core.runs import resume_run, start_run
    from labkit.spar.data import ifeval_path, load_ifeval, read_responses
    from labkit.spar.eval import generate_responses, score_matched
    from labkit.spar.ifeval import match, summarize
    from labkit.spar.report import ifeval_report

    if responses is None and model is None and resume is None:
        raise ConfigError("give --responses FILE (score it) or --model SPEC (answer the prompts, then score)")
    cfg = _config(config, overrides, resume, model=model, data=data, limit=limit, max_tokens=max_tokens)
    items = load_ifeval(Path(cfg.ifeval.data) if cfg.ifeval.data else None)[:cfg.ifeval.limit]
    given = read_responses(responses) if responses is not None else None  # checked before a run folder exists
    if given is not None and not match(items, given).pairs:
        raise ConfigError(f"{responses}: no response matched a prompt of "
                          f"{cfg.ifeval.data or ifeval_path()} (prompts are matched by their exact text)")
    run = resume_run(resume) if resume else start_run("spar", name or "ifeval", to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    if given is not None:
        decoding = f"responses from {responses}"
    else:
        done = generate_responses(cfg.ifeval, run, items)
        failed = [r for r in done.values() if not r.get("ok")]
        if failed:
            typer.echo(f"{len(failed)} prompt(s) got no response (model error); first: {failed[0]['error']}", err=True)
        given = [(0, r["value"]["prompt"], r["value"]["response"]) for r in done.values() if r.get("ok")]
        decoding = (f"responses by {cfg.ifeval.model}, " + ("greedy" if cfg.ifeval.temperature <= 0 else
                    f"temperature {cfg.ifeval.temperature}, seed {cfg.ifeval.seed}") +
                    f", at most {cfg.ifeval.max_tokens} new tokens")
    matched = match(items, given)
    if matched.unknown or matched.duplicates:
        first = (matched.unknown or matched.duplicates)[0]
        typer.echo(f"not scored: {len(matched.unknown)} response(s) to prompts not in IFEval, "
                   f"{len(matched.duplicates)} second response(s) to a prompt; first: line {first[0]}: "
                   f"{first[1][:60]!r}", err=True)
    verdicts, score_failed = score_matched(matched, run)
    if score_failed:
        typer.echo(f"{len(score_failed)} response(s) could not be scored (left out of the accuracies); first: "
                   f"{score_failed[0]}", err=True)
    metrics = summarize(verdicts)
    if not verdicts:
        raise ConfigError("no response matched an IFEval prompt (prompts are matched by their exact text)")
    metrics.update({"unknown_prompts": len(matched.unknown), "duplicates": len(matched.duplicates),
                    "missing": matched.missing, "score_failed": score_failed, "decoding": decoding})
    run.write_metrics(metrics)
    text = ifeval_report(metrics, matched, run.dir, decoding)
    run.write_report(text)
    typer.echo("\n".join(text.splitlines()[2:7]))
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("prompts")
def prompts_cmd(out: Annotated[Path, typer.Option(help="Output JSONL (IFEval's input format for programmatic "
                                                       "prompts; {\"prompt\"} for evolved ones).")],
                count: Annotated[int, typer.Option(help="Prompts to write.", min=1)] = 200,
                seed: Annotated[int, typer.Option(help="Seed of the draw.", min=0)] = 0,
                evolve: Annotated[str | None, typer.Option(help=(
                    "Evolve seed instructions with this model instead (paper: gpt-4o-mini through "
                    "openai:<model>@<url>); the prompts are then verifiable by an LLM judge only."))] = None,
                seeds: Annotated[Path | None, typer.Option(help="Seed instructions for --evolve, one per line "
                                                                "(default: labkit's task list).")] = None,
                max_constraints: Annotated[int, typer.Option(help="Constraints per programmatic prompt, 1..N.",
                                                             min=1)] = 3
                ) -> None:
    """Write constraint-bearing training prompts: programmatic (IFEval-style verifiable constraints, default) or
    evolved by an LLM as in the paper. None equals one of IFEval's 541 prompts."""
    import json
    import random

    from labkit.core.errors import DataError
    from labkit.spar.data import ifeval_path, load_ifeval
    from labkit.spar.prompts import TASKS, evolve_prompts, normalise, programmatic_prompts

    exclude = {normalise(it.prompt) for it in load_ifeval()} if ifeval_path().exists() else set()
    if not exclude:
        typer.echo(f"IFEval not found at {ifeval_path()}: prompts are not checked against it", err=True)
    if evolve:
        from labkit.core.models import load_model
        from labkit.core.records import read_text

        pool = [s for s in read_text(seeds).splitlines() if s.strip()] if seeds else TASKS
        if not pool:
            raise DataError("no seed tasks (one per line)", path=str(seeds))
        chosen = [random.Random(seed).choice(pool) for _ in range(count)] if count > len(pool) else pool[:count]
        prompts, counts = evolve_prompts(load_model(evolve), [s for s in chosen if s.strip()], seed=seed,
                                         exclude=exclude)
        rows = [{"prompt": p} for p in prompts]
        typer.echo(f"{len(rows)} evolved prompts; dropped: {counts}", err=True)
    else:
        items, dropped = programmatic_prompts(count, seed=seed, exclude=exclude, max_constraints=max_constraints)
        rows = [{"key": it.key, "prompt": it.prompt, "instruction_id_list": list(it.instruction_ids),
                 "kwargs": list(it.kwargs)} for it in items]
        typer.echo(f"{len(rows)} prompts ({dropped} dropped as IFEval duplicates)", err=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    typer.echo(f"wrote {out}")


PromptOpt = Annotated[str, typer.Option(help="The prompt (instruction with its constraints).")]
ResponseOpt = Annotated[str, typer.Option(help="The response to judge / refine.")]


def _roles(cfg: SparConfig, verifier: str, prompts_file: Path | None):  # noqa: ANN202 - (judge, items)
    from labkit.core.errors import ConfigError
    from labkit.core.models import load_model
    from labkit.spar.method import model_judge, programmatic_judge

    if verifier == "llm":
        return model_judge(load_model(cfg.judge.model), cfg.judge), {}
    if prompts_file is None:
        raise ConfigError("--verifier code needs --prompts FILE (IFEval-format prompts with their constraints)")
    from labkit.spar.data import load_ifeval

    items = {it.prompt: it for it in load_ifeval(prompts_file)}
    return programmatic_judge(items), items


VerifierOpt = Annotated[str, typer.Option(help="llm (the refiner's 5 votes) or code (IFEval checkers; needs "
                                               "--prompts).")]
PromptsOpt = Annotated[Path | None, typer.Option("--prompts", help="IFEval-format file holding the prompt's "
                                                                   "constraints (for --verifier code).")]


@app.command("judge", epilog=settings_epilog(SparConfig, "judge"))
def judge_cmd(prompt: PromptOpt, response: ResponseOpt, verifier: VerifierOpt = "llm", prompts: PromptsOpt = None,
              config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Judge one response: every sampled judgment with its parsed label, the vote and V = #Yes / (#Yes + #No)
    (paper: 5 samples at T 0.7, majority, ties resampled up to 3 times)."""
    cfg = _config(config, overrides, None)
    judge, _ = _roles(cfg, verifier, prompts)
    (v,) = judge([(prompt, response)])
    typer.echo(f"V = {v.value:.2f}: {v.yes} yes, {v.no} no, {v.invalid} unparseable, {v.rounds} round(s), "
               f"{v.calls} judgment(s); labels of the last round {v.labels}")
    typer.echo(f"critique kept:\n{v.critique or '(none: no usable judgment)'}")


@app.command("refine", epilog=settings_epilog(SparConfig, "judge", "search", "refiner"))
def refine_cmd(prompt: PromptOpt, response: ResponseOpt, verifier: VerifierOpt = "llm", prompts: PromptsOpt = None,
               name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Judge one response and, if it fails, refine it by tree search (BFS; branch 3, keep 2, depth 3, end gate
    0.5); prints the whole tree and saves it (tree.json) in a run folder."""
    import json

    from labkit.core.models import load_model
    from labkit.core.runs import start_run
    from labkit.spar.method import model_refiner
    from labkit.spar.tree import render_tree, search

    cfg = _config(config, overrides, None)
    judge, _ = _roles(cfg, verifier, prompts)
    (root,) = judge([(prompt, response)])
    if root.value > cfg.search.end_gate:
        typer.echo(f"the response already passes (V = {root.value:.2f}): nothing to refine")
        return
    run = start_run("spar", name or "refine", to_dict(cfg))
    tree = search(prompt, response, root.critique or "Final Judgement: No", model_refiner(load_model(cfg.refiner),
                                                                                          cfg.search), judge,
                  cfg.search, root_vote=root)
    (run.dir / "tree.json").write_text(json.dumps(tree.to_dict(), indent=1))
    text = render_tree(tree)
    run.write_report(f"# SPaR tree search\n\nPrompt: {prompt}\n\n```\n{text}\n```\n\nResult:\n\n"
                     f"{tree.best_node.response}\n")
    typer.echo(text)
    typer.echo(f"result ({'passes' if tree.success else 'best found, does not pass'}):\n{tree.best_node.response}")
    typer.echo(f"tree: {run.dir / 'tree.json'}")


@app.command("iterate", epilog=settings_epilog(SparConfig, "iterate", "search", "judge", "dpo", "rft",
                                                            "actor", "refiner"))
def iterate_cmd(iterations: Annotated[int | None, typer.Option(help="Chained iterations (paper 3).")] = None,
                name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
                resume: ResumeOpt = None) -> None:
    """Run SPaR iterations: actor samples, verifier labels, tree-search refinement of failures, DPO pairs, TRL DPO
    (beta 0.1 + SFT 0.1), and M_t vs M_{t+1} on held-out generated prompts and IFEval. Resumable (--resume)."""
    from labkit.core.runs import resume_run, start_run
    from labkit.spar.data import ifeval_path, load_ifeval
    from labkit.spar.iterate import iterate
    from labkit.spar.report import iterate_report

    cfg = resolve_config(SparConfig, config, overrides_from({"iterations": iterations},
                                                             {"iterations": "iterate.iterations"}) +
                         list(overrides or []), resume)
    ifeval = load_ifeval()[:cfg.iterate.ifeval_limit] if ifeval_path().exists() else []
    if not ifeval:
        typer.echo(f"IFEval not found at {ifeval_path()}: evaluating on held-out generated prompts only", err=True)
    if cfg.iterate.serve == "vllm":  # before a run folder exists
        from labkit.core.launch import command

        command("vllm", Path("."), "check", 0)  # a ConfigError naming what is missing
    run = resume_run(resume) if resume else start_run("spar", name or "iterate", to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    summaries = iterate(cfg, run, ifeval)
    run.write_metrics({"iterations": summaries})
    run.write_report(iterate_report(summaries))
    typer.echo(iterate_report(summaries))
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("ablation", epilog=settings_epilog(SparConfig, "ablation", "iterate", "search", "judge",
                                                              "dpo", "rft", "actor", "refiner"))
def ablation_cmd(seeds: Annotated[str | None, typer.Option(help="Comma-separated seeds: the `ablation.seeds` key.")
                                  ] = None,
                 name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
                 resume: ResumeOpt = None) -> None:
    """The paper's "w/o refinement" ablation: per seed, one iteration on refinement pairs and one on as many
    independently sampled pass/fail pairs of the same prompts (same samples, same M_0); held-out pass rate and
    IFEval strict mean before and after, mean ± sd over seeds, a plot. Resumable (--resume)."""
    from labkit.core.runs import resume_run, start_run
    from labkit.spar.ablation import ablation_report, run_ablation
    from labkit.spar.data import ifeval_path, load_ifeval

    cfg = resolve_config(SparConfig, config, ([f"ablation.seeds=[{seeds}]"] if seeds else []) + list(overrides or []),
                         resume, flags={"ablation.seeds": "--seeds"})
    ifeval = load_ifeval()[:cfg.iterate.ifeval_limit] if ifeval_path().exists() else []
    if not ifeval:
        typer.echo(f"IFEval not found at {ifeval_path()}: evaluating on held-out generated prompts only", err=True)
    run = resume_run(resume) if resume else start_run("spar", name or "ablation", to_dict(cfg))
    legacy = run.dir / "seeds.txt"  # runs before the seeds were a config key
    chosen = [int(x) for x in legacy.read_text().split(",")] if legacy.exists() else list(cfg.ablation.seeds)
    typer.echo(f"run: {run.dir}", err=True)
    rows = run_ablation(cfg, run, ifeval, chosen)
    run.write_metrics({"rows": rows})
    text = ablation_report(rows, run.dir)
    run.write_report(text)
    typer.echo(text)
    typer.echo(f"report: {run.dir / 'report.md'}")


def demo(folder: Path) -> str:
    from labkit.spar.demo import run_demo

    return run_demo(folder)
