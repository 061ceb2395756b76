"""``labkit hpss``: search a judge's prompting strategy, judge with it, meta-evaluate scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from labkit.core.cli import ConfigOpt, ResumeOpt, SetOpt, model_option, resolve_config, settings_epilog, system_app
from labkit.core.config import to_dict
from labkit.hpss.config import HpssConfig

app = system_app("HPSS: prompting-strategy search for LLM evaluators (Wen et al., ACL Findings 2025).")


SETTINGS = settings_epilog(HpssConfig)


@app.command("search", epilog=SETTINGS)
def search_cmd(
    data: Annotated[str | None, typer.Option(help="topical_chat, sfhot, sfres, hanna, or a file.")] = None,
    aspect: Annotated[str | None, typer.Option(help="Human-rated aspect (e.g. coherence).")] = None,
    judge: model_option("--judge", "Judge model (default smollm2; paper: Qwen2.5-14B-Instruct on vLLM, "
                                   "greedy).") = None,
    searcher: Annotated[str | None, typer.Option(help="hpss (paper), random, greedy, tpe, opro.")] = None,
    budget: Annotated[int | None, typer.Option(help="Evaluations after the 21 of initialization (paper: 50).")] = None,
    seed: Annotated[int | None, typer.Option(help="Search seed (paper: 42).")] = None,
    max_items: Annotated[int | None, typer.Option(help="Seeded sample of at most N items per split.")] = None,
    halving: Annotated[bool | None, typer.Option(help="Successive halving on item subsets.")] = None,
    name: Annotated[str, typer.Option(help="Run name (folder suffix).")] = "search",
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    resume: ResumeOpt = None,
) -> None:
    """Search on the validation split, score the best strategy and the default on test, write a run."""
    from labkit.core.runs import resume_run, start_run
    from labkit.hpss.method import estimate_cost, prepare, score_on_test, search
    from labkit.hpss.report import write_report

    given = {"data": data, "aspect": aspect, "judge": judge, "searcher": searcher, "budget": budget,
             "seed": seed, "max_items": max_items, "halving": halving}
    sets = [f"{k}={json.dumps(v) if isinstance(v, bool) else v}" for k, v in given.items() if v is not None]
    cfg = resolve_config(HpssConfig, config, sets + list(overrides or []), resume)
    prepared = prepare(cfg)
    cost = estimate_cost(prepared)
    typer.echo(f"estimate: {cost['evaluations']} evaluations, {cost['judge_calls']} judge calls, "
               f"~{cost['prompt_tokens']:,} prompt tokens", err=True)
    run = resume_run(resume) if resume else start_run("hpss", name, to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    ledger, valid = search(prepared, run)
    test = score_on_test(prepared, run, [ledger.best().strategy, prepared.default])
    metrics = write_report(prepared, run, ledger, valid, test, cost)
    typer.echo(f"best: {metrics['best_strategy']}")
    typer.echo(f"valid Spearman best {metrics['valid_best_spearman']:.4f} vs default "
               f"{metrics['valid_default_spearman']:.4f}; test {metrics['test_best_spearman']:.4f} vs "
               f"{metrics['test_default_spearman']:.4f}")
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("judge")
def judge_cmd(
    strategy: Annotated[Path, typer.Option(help="best.yaml from a search run.")],
    input: Annotated[Path, typer.Option("--input", help="JSONL/CSV/JSON of outputs (source, output, ...).")],  # noqa: A002
    judge: model_option("--judge", "Judge model (default: the one searched with).") = None,
    out: Annotated[Path | None, typer.Option(help="Where to write scores (default: <input>.scored.jsonl).")] = None,
    max_tokens: Annotated[int, typer.Option(help="Judge answer length for explain-then-rate strategies.",
                                            min=1)] = 1024,
) -> None:
    """Score new outputs with a found strategy; prints correlations when the file has human scores."""
    from labkit.core.models import load_model
    from labkit.hpss.data import load_file, read_strategy
    from labkit.hpss.eval import correlation_table
    from labkit.hpss.method import judge_file

    exported = read_strategy(strategy)
    task = None if exported["task"] == "generic" else exported["task"]
    items = load_file(input, task=task, aspect=exported["aspect"], scored=False).items
    rows = judge_file(exported, load_model(judge or exported["judge"]), items, max_tokens=max_tokens)
    out = out or input.with_suffix(".scored.jsonl")
    with open(out, "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    unparsed = sum(r["rating"] is None and r["error"] is None for r in rows)
    failed = sum(r["error"] is not None for r in rows)
    typer.echo(f"scored {len(rows)} outputs -> {out} (unparsed {unparsed}, failed {failed})")
    scored = [(it.scores[exported["aspect"]], r["rating"]) for it, r in zip(items, rows, strict=True)
              if exported["aspect"] in it.scores and r["rating"] is not None]
    if len(scored) >= 3:
        t = correlation_table([h for h, _ in scored], [p for _, p in scored], n_boot=1000)
        typer.echo(" ".join(f"{k} {v}" for k, v in t.items()) + f" (n={len(scored)})")


@app.command("metaeval")
def metaeval_cmd(
    data: Annotated[Path, typer.Option(help="JSON/JSONL/CSV with human scores and a prediction field.")],
    aspect: Annotated[str, typer.Option(help="Aspect of the human scores.")],
    pred_field: Annotated[str, typer.Option(help="Field with a number or a per-aspect mapping.")],
    group_by: Annotated[str | None, typer.Option(help=(
        "Correlate within each group of this field, then average. Default: the task's own grouping "
        "(SummEval: per document, as `hpss search`); 'none' for dataset level."))] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the 95% CIs (0: none).", min=0)] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.", min=0)] = 0,
) -> None:
    """Pearson, Spearman and Kendall tau-b of a score column against human scores, with CIs."""
    from labkit.core.metrics import CORRELATIONS, correlation_by_group
    from labkit.hpss.data import predictions
    from labkit.hpss.eval import correlation_table

    human, pred, groups, field = predictions(data, pred_field, aspect, group_by)
    table = correlation_table(human, pred, groups if field else None, n_boot=n_boot, seed=seed)
    how = "given" if group_by not in (None, "none") else "the task's default"
    level = f"grouped by {field} ({how}; {len(set(groups))} groups)" if field else "dataset-level"
    typer.echo(f"{data.name} {aspect}: n={len(human)}, {level}")
    for name, ci in table.items():
        used = ""
        if field:  # constant groups have no correlation and are skipped: say how many counted
            g = correlation_by_group(CORRELATIONS[name], human, pred, groups)
            used = f"  ({g.groups_used} of {g.groups_total} groups contributed)"
        typer.echo(f"  {name:9} {ci.value:.4f}  95% CI [{ci.low:.4f}, {ci.high:.4f}]{used}")


def demo(folder: Path) -> str:
    from labkit.hpss.demo import run_demo

    return run_demo(folder)


if __name__ == "__main__":
    app()

