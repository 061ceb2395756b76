"""``labkit recflow``: RecFlow (Liu et al., ICLR 2025, arXiv:2410.20868) - multi-stage funnel data in the official
layout, its validator and loaders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labkit.core.cli import ConfigOpt, NameOpt, SetOpt, overrides_from, resolve_config, settings_epilog, system_app
from labkit.core.config import to_dict
from labkit.core.errors import ConfigError
from labkit.recflow.config import RecflowConfig
from labkit.recflow.data import Funnel
from labkit.recflow.report import cascade_table, ranking_table, retrieval_table
from labkit.recflow.validate import check_inputs

app = system_app("RecFlow (Liu et al., ICLR 2025, arXiv:2410.20868): industrial funnel data (the items each "
                  "cascade stage kept and dropped per request): `generate` (a synthetic funnel in the "
                  "official layout with a hidden truth), `validate` (any folder, generated or downloaded), "
                  "`subsample` (a share of users in the same layout, per day, processes or Ray Data), `train` "
                  "(DSSM or DIN for coarse ranking and ranking with the distribution-shift, auxiliary-ranking and "
                  "FS-LTR strategies, DIN with request-context behaviours; SASRec retrieval with random, hard or "
                  "FS-LTR negatives), `eval` (trained runs, and a coarse + rank cascade's Recall@k@m) and "
                  "`experiment` (distribution-shift, auxiliary-ranking, fs-ltr, request-context, "
                  "retrieval-negatives).")
SETTINGS = settings_epilog(RecflowConfig)


@app.command("generate", epilog=SETTINGS)
def generate_cmd(out: Annotated[Path, typer.Option(help="Folder to write (the official layout).")],
                 users: Annotated[int | None, typer.Option(help="Users (default 1000).")] = None,
                 days: Annotated[int | None, typer.Option(help="Days, the last one the test day (default 4).")] = None,
                 seed: Annotated[int | None, typer.Option(help="Seed (default 0).")] = None,
                 config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Write a synthetic funnel: users and videos with hidden tastes, a hidden cascade whose stage scorers see
    the true affinity through noise that shrinks stage by stage (180 logged items per request: 60 prerank_neg,
    60 coarse_neg, 50 rank_neg, 10 rank_pos, 10 rerank_neg, 4-7 exposed), feedback from a hidden user model, the
    last 50 effective views per request, the stage dictionaries, id_cnt, video info and the test tables under
    both spellings. The hidden truth goes to _hidden/truth.npz."""
    import time

    from labkit.recflow.generate import generate

    cfg = resolve_config(RecflowConfig, config, overrides_from(
        {"users": users, "days": days, "seed": seed},
        {"users": "generate.users", "days": "generate.days", "seed": "generate.seed"}) + list(overrides or []), None)
    g = cfg.generate
    t0 = time.perf_counter()
    counts = generate(out, users=g.users, days=g.days, videos=g.videos, requests_per_day=g.requests_per_day,
                      seed=g.seed)
    sec = time.perf_counter() - t0
    typer.echo(f"{counts['days']} days, {counts['requests']} requests, {counts['rows']} stage rows "
               f"({counts['rows'] / sec:,.0f} rows/s), {counts['exposures']} exposures, {counts['effective_views']} "
               f"effective views: {out}")


@app.command("validate")
def validate_cmd(root: Annotated[Path, typer.Argument(help="A RecFlow folder (generated or the official release).")],
                 max_days: Annotated[int | None, typer.Option(help="Check only the first N days.", min=1)] = None
                 ) -> None:
    """Check a folder against the official layout; one line per problem (file, column or key, first row)."""
    from labkit.core.errors import DataError
    from labkit.recflow.validate import validate

    problems = validate(root, max_days=max_days)
    for p in problems:
        typer.echo(p)
    if problems:
        raise DataError(f"{len(problems)} problem(s) in {root}; the first: {problems[0]}")
    typer.echo(f"{root}: matches the RecFlow layout")


DataArg = Annotated[Path, typer.Option("--data", help="A RecFlow folder (official layout).")]


@app.command("subsample")
def subsample_cmd(data: DataArg,
                  out: Annotated[Path, typer.Option(help="Folder to write (the same layout).")],
                  users: Annotated[float, typer.Option(help="Share of users kept (a hash of the user ID, as the "
                                                            "loaders' train.users).")],
                  seed: Annotated[int, typer.Option(help="Hash seed (the loaders' train.seed).", min=0)] = 0,
                  workers: Annotated[int, typer.Option(help="Days processed at once (processes, or Ray tasks with "
                                                            "--ray).", min=1)] = 2,
                  ray: Annotated[bool, typer.Option("--ray", help="Run the days as a Ray Data pipeline (a local Ray, "
                                                                  "or LABKIT_RAY_ADDRESS).")] = False) -> None:
    """The per-day preprocessing pass for the full release: keep a share of users and write the folder again in the
    official layout (rows, histories and stage dictionaries of their requests; test tables filtered; id_cnt and
    video info copied). Loading the result equals loading the original with train.users=SHARE. A killed pass
    resumes: finished days are skipped."""
    import time

    from labkit.core.parallel import ray_requested
    from labkit.recflow.subsample import subsample

    t0 = time.perf_counter()
    counts = subsample(data, out, users, seed=seed, workers=workers, ray=ray or ray_requested())
    done = [c for c in counts if not c.get("skipped")]
    typer.echo(f"{len(done)} day(s) written, {len(counts) - len(done)} already done, "
               f"{sum(c.get('requests', 0) for c in done):,} requests kept in {time.perf_counter() - t0:.1f} s: {out}")
Candidates = Annotated[str | None, typer.Option(help="Ranking stages: official (the release's test table of the "
                                                     "stage, as the released code; default) or logged (the test "
                                                     "day's logged rows, labkit's variant).")]


def _funnel(data: Path | None, cfg: RecflowConfig, users: float, seed: int) -> Funnel:
    folder = data or (Path(cfg.data) if cfg.data else None)
    if folder is None:
        raise ConfigError("give --data (the RecFlow folder)")
    return Funnel(folder, users, seed)


@app.command("train", epilog=SETTINGS)
def train_cmd(data: Annotated[Path | None, typer.Option("--data", help="A RecFlow folder (official layout); with "
                                                                      "--resume, the run's own.")] = None,
              task: Annotated[str | None, typer.Option(help="retrieval, coarse or rank.")] = None,
              model: Annotated[str | None, typer.Option(help="sasrec, dssm or din (default: the task's).")] = None,
              strategy: Annotated[str | None, typer.Option(help="Coarse/rank: bce, sampling, all, aux, fsltr; "
                                                                         "rank (DIN) also context.")] = None,
              negatives: Annotated[str | None, typer.Option(help="Retrieval: random, hard or fsltr.")] = None,
              candidates: Candidates = None, seed: Annotated[int | None, typer.Option(help="Seed.")] = None,
              name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
              resume: Annotated[Path | None, typer.Option(help="Continue a killed run at its first unfinished "
                                                                "day.")] = None) -> None:
    """Train over all days but the last, in date order, one epoch (SASRec for retrieval, DSSM for coarse ranking,
    DIN for ranking), then evaluate on the last day (the official test tables by default). Every file it reads is
    checked first; resumable by day (--resume RUN)."""
    from labkit.core.runs import resume_run, start_run
    from labkit.recflow.method import check_settings, evaluate, needs, train
    from labkit.recflow.settings import settings_of

    keys = {"task": "train.task", "model": "train.model", "strategy": "train.strategy",
            "negatives": "train.negatives", "seed": "train.seed", "candidates": "eval.candidates"}
    cfg = resolve_config(RecflowConfig, config, overrides_from(
        {"task": task, "model": model, "strategy": strategy, "negatives": negatives, "seed": seed,
         "candidates": candidates}, keys) + list(overrides or []), resume)
    s = settings_of(cfg)
    check_settings(s)
    funnel = _funnel(data, cfg, s.users, s.seed)
    check_inputs(funnel.root, needs([s], train=True, candidates=cfg.eval.candidates))
    cfg.data = str(funnel.root)
    arm = cfg.train.negatives if cfg.train.task == "retrieval" else cfg.train.strategy
    run = resume_run(resume) if resume else start_run("recflow", name or f"{cfg.train.task}-{arm}", to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)

    def log(r: dict) -> None:
        run.append({"key": f"day-{r['day']}", **r})
        typer.echo(f"{r['day']}: loss {r['loss']:.4f}", err=True)

    typer.echo(f"training on {len(funnel.train_days)} day(s), testing on {funnel.test_day}", err=True)
    metrics = evaluate(funnel, train(funnel, s, run.dir, log), s, cfg.eval.candidates)
    text = retrieval_table(metrics) if cfg.train.task == "retrieval" else \
        ranking_table([(s.strategy, s.seed, metrics)])
    run.write_metrics(metrics)
    run.write_report(f"# RecFlow {cfg.train.task} ({arm}, seed {s.seed})\n\n{text}\n")
    typer.echo(text)


@app.command("eval")
def eval_cmd(runs: Annotated[list[Path], typer.Argument(help="One trained run folder, or two: a coarse-ranking run "
                                                             "then a ranking run, evaluated as a cascade.")],
             data: Annotated[Path | None, typer.Option("--data", help="The RecFlow folder (default: the one the first "
                                                                      "run trained on).")] = None,
             candidates: Candidates = None,
             m1: Annotated[int | None, typer.Option(min=1, help="Cascade: items the coarse model keeps per request "
                                                                "(default 60).")] = None,
             name: NameOpt = None) -> None:
    """Evaluate trained runs on the test day - ranking stages: AUC/GAUC/logloss over exposures and Recall/NDCG@K
    (released, per-request and normalised forms) within the stage's official test table; retrieval: Recall/NDCG@K
    of the retrieval test table's effective views in the exact top-K over the exposed corpus (faiss). With two runs
    also LCRON's cascade Recall@k@m on the coarse test table (the first keeps its top m1 per request, the second
    picks m of those; truth: the request's effective views). Inputs are checked before a run folder is made."""
    from labkit.core.runs import start_run
    from labkit.recflow.eval import evaluate_cascade
    from labkit.recflow.method import evaluate, needs
    from labkit.recflow.retrieval import RetrievalSettings
    from labkit.recflow.settings import load_run, run_config, settings_of

    if len(runs) not in (1, 2):
        raise ConfigError("give one trained run, or two (coarse then rank) for the cascade")
    cfgs = [run_config(r) for r in runs]
    settings = [settings_of(c) for c in cfgs]
    cand = candidates or cfgs[0].eval.candidates
    m1 = m1 or cfgs[0].eval.m1
    if len(runs) == 2 and (any(isinstance(s, RetrievalSettings) for s in settings) or
                           (settings[0].users, settings[0].seed) != (settings[1].users, settings[1].seed)):
        raise ConfigError("a cascade needs two ranking runs (coarse then rank) on the same users")
    funnel = _funnel(data, cfgs[0], settings[0].users, settings[0].seed)
    check_inputs(funnel.root, needs(settings, train=False, candidates=cand, cascade=len(runs) == 2))
    models = [load_run(r, funnel)[0] for r in runs]
    run = start_run("recflow", name or "eval", {"runs": [str(Path(r).resolve()) for r in runs],
                                                 "data": str(funnel.root), "candidates": cand, "m1": m1})
    typer.echo(f"run: {run.dir}", err=True)
    metrics: dict = {}
    parts = []
    for path, model, s in zip(runs, models, settings, strict=True):
        typer.echo(f"evaluating {path}", err=True)
        m = evaluate(funnel, model, s, cand)
        parts.append(f"{path} (retrieval, {s.negatives}):\n\n{retrieval_table(m)}" if isinstance(
            s, RetrievalSettings) else f"{path} ({s.model}, {s.strategy}):\n\n" +
            ranking_table([(s.strategy, s.seed, m)]))
        metrics[str(path)] = m
    if len(runs) == 2:
        typer.echo("evaluating the cascade", err=True)
        metrics["cascade"] = evaluate_cascade(funnel, models[0], models[1], m1=m1, candidates=cand)
        parts.append(cascade_table(metrics["cascade"]))
    text = "\n\n".join(parts)
    run.write_metrics(metrics)
    run.write_report(f"# RecFlow evaluation\n\n{text}\n")
    typer.echo(text)


@app.command("experiment", epilog=SETTINGS)
def experiment_cmd(family: Annotated[str, typer.Argument(help="distribution-shift, auxiliary-ranking, fs-ltr, "
                                                             "request-context or retrieval-negatives.")],
                   data: Annotated[Path | None, typer.Option("--data", help="A RecFlow folder (official layout); "
                                                                            "with --resume, the run's own.")] = None,
                   name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
                   resume: Annotated[Path | None, typer.Option(help="Continue a killed experiment: finished arms "
                                                                     "are kept, a half-trained one continues at its "
                                                                     "first unfinished day.")] = None) -> None:
    """One experiment family end to end: every arm x seed (experiment.seeds, 3) trained and evaluated, the
    headline metric's mean ± sd and change against the baseline, a table and a plot. Arms default to the
    family's (distribution-shift: bce, sampling, all; auxiliary-ranking: bce, aux; fs-ltr: bce, fsltr - these three
    on train.task coarse (DSSM) or rank (DIN); request-context: bce, context with DIN; retrieval-negatives: random,
    hard, fsltr); experiment.strategies overrides them."""
    from labkit.core.runs import resume_run, start_run
    from labkit.recflow.experiment import family_report
    from labkit.recflow.method import check_settings, experiment, family_arms, family_settings, needs
    from labkit.recflow.train import TrainSettings

    cfg = resolve_config(RecflowConfig, config, list(overrides or []), resume)
    if resume and cfg.experiment.family != family:
        raise ConfigError(f"{resume} is a {cfg.experiment.family} experiment, not {family}")
    cfg.experiment.family = family
    fam, arms = family_arms(cfg, family)
    settings = [family_settings(cfg, fam, arm, 0) for arm in arms]
    for s in settings:
        check_settings(s)
    funnel = _funnel(data, cfg, settings[0].users, settings[0].seed)
    check_inputs(funnel.root, needs(settings, train=True, candidates=cfg.eval.candidates))
    cfg.data = str(funnel.root)
    run = resume_run(resume) if resume else start_run("recflow", name or family, to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    rows = experiment(run, funnel, cfg, family, cfg.eval.candidates, log=lambda t: typer.echo(t, err=True))
    text = family_report(rows, run.dir)
    if fam.task != "retrieval":
        text = ranking_table([(a, sd, m) for a, sd, m in rows]) + "\n\n" + text
    run.write_metrics({"rows": [{"arm": a, "seed": b, **m} for a, b, m in rows]})
    stage = settings[0].task if isinstance(settings[0], TrainSettings) else "retrieval"
    run.write_report(f"# RecFlow: {family} ({stage})\n\n{text}")
    typer.echo(text)


def demo(folder: Path) -> str:
    from labkit.recflow.demo import run_demo

    return run_demo(folder)
