"""``labkit recflow``: RecFlow (Liu et al., ICLR 2025, arXiv:2410.20868) - multi-stage funnel data in the official
layout, its validator and loaders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labkit.core.cli import ConfigOpt, SetOpt, overrides_from, resolve_config
from labkit.core.config import describe
from labkit.recflow.config import RecflowConfig

app = typer.Typer(help="RecFlow (Liu et al., ICLR 2025, arXiv:2410.20868): industrial funnel data (the items each "
                  "cascade stage kept and dropped per request): `generate` (a synthetic funnel in the "
                  "official layout with a hidden truth), `validate` (any folder, generated or downloaded), "
                  "`subsample` (a share of users in the same layout, per day, processes or Ray Data), `train` "
                  "(DSSM or DIN for coarse ranking and ranking with the distribution-shift, auxiliary-ranking and "
                  "FS-LTR strategies, DIN with request-context behaviours; SASRec retrieval with random, hard or "
                  "FS-LTR negatives), `eval` (trained runs, and a coarse + rank cascade's Recall@k@m) and "
                  "`experiment` (distribution-shift, auxiliary-ranking, fs-ltr, request-context, "
                  "retrieval-negatives).",
                  no_args_is_help=True)
SETTINGS = "Settings for --config / --set (default, meaning):\n\n" + "\n\n".join(
    f"{key} = {default!r}: {text}" for key, default, text in describe(RecflowConfig))


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
                 max_days: Annotated[int | None, typer.Option(help="Check only the first N days.")] = None) -> None:
    """Check a folder against the official layout; one line per problem (file, column or key, first row)."""
    from labkit.core.errors import DataError
    from labkit.recflow.validate import validate

    problems = validate(root, max_days=max_days)
    for p in problems:
        typer.echo(p)
    if problems:
        raise DataError(f"{len(problems)} problem(s) in {root}")
    typer.echo(f"{root}: matches the RecFlow layout")


DataArg = Annotated[Path, typer.Option("--data", help="A RecFlow folder (official layout).")]


@app.command("subsample")
def subsample_cmd(data: DataArg,
                  out: Annotated[Path, typer.Option(help="Folder to write (the same layout).")],
                  users: Annotated[float, typer.Option(help="Share of users kept (a hash of the user ID, as the "
                                                            "loaders' train.users).")],
                  seed: Annotated[int, typer.Option(help="Hash seed (the loaders' train.seed).")] = 0,
                  workers: Annotated[int, typer.Option(help="Days processed at once (processes, or Ray tasks with "
                                                            "--ray).")] = 2,
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
NameOpt = Annotated[str | None, typer.Option(help="Run name (folder suffix).")]


@app.command("train", epilog=SETTINGS)
def train_cmd(data: DataArg, task: Annotated[str | None, typer.Option(help="retrieval, coarse or rank.")] = None,
              model: Annotated[str | None, typer.Option(help="sasrec, dssm or din (default: the task's).")] = None,
              strategy: Annotated[str | None, typer.Option(help="Coarse/rank: bce, sampling, all, aux, fsltr; "
                                                                         "rank (DIN) also context.")] = None,
              negatives: Annotated[str | None, typer.Option(help="Retrieval: random, hard or fsltr.")] = None,
              seed: Annotated[int | None, typer.Option(help="Seed.")] = None, name: NameOpt = None,
              config: ConfigOpt = None, overrides: SetOpt = None,
              resume: Annotated[Path | None, typer.Option(help="Continue a killed run at its first unfinished "
                                                                "day.")] = None) -> None:
    """Train over all days but the last, in date order, one epoch (DSSM for coarse ranking, or SASRec for
    retrieval); evaluate on the last day. Resumable by day (--resume RUN)."""
    from labkit.core.report import markdown_table
    from labkit.core.runs import resume_run, start_run
    from labkit.recflow.eval import settings_of
    from labkit.recflow.retrieval import evaluate_retrieval, train_retrieval
    from labkit.recflow.train import evaluate_coarse, train_coarse

    keys = {"task": "train.task", "model": "train.model", "strategy": "train.strategy",
            "negatives": "train.negatives", "seed": "train.seed"}
    cfg = resolve_config(RecflowConfig, config, overrides_from(
        {"task": task, "model": model, "strategy": strategy, "negatives": negatives, "seed": seed}, keys) +
        list(overrides or []), resume)
    arm = cfg.train.negatives if cfg.train.task == "retrieval" else cfg.train.strategy
    run = resume_run(resume) if resume else start_run("recflow", name or f"{cfg.train.task}-{arm}",
                                                      _cfg_dict(cfg, data))
    typer.echo(f"run: {run.dir}", err=True)
    s = settings_of(cfg)

    def log(r: dict) -> None:
        run.append({"key": f"day-{r['day']}", **r})
        typer.echo(f"{r['day']}: loss {r['loss']:.4f}", err=True)

    if cfg.train.task == "retrieval":
        metrics = evaluate_retrieval(data, train_retrieval(data, s, run.dir, log=log), users=s.users, seed=s.seed)
        text = markdown_table(["K", "Recall@K", "NDCG@K (orig.)"], [[k, f"{metrics['recall'][k]:.4f}",
                                                                     f"{metrics['ndcg'][k]:.4f}"]
                                                                    for k in metrics["recall"]])
        if "truth_recall" in metrics:
            text += f"\n\nHidden-truth recall (true top-100 in the model's top-100): {metrics['truth_recall']:.4f}"
    else:
        metrics = evaluate_coarse(data, train_coarse(data, s, run.dir, log=log), users=s.users, seed=s.seed)
        text = coarse_table([(s.strategy, s.seed, metrics)])
    run.write_metrics(metrics)
    run.write_report(f"# RecFlow {cfg.train.task} ({arm}, seed {s.seed})\n\n{text}\n")
    typer.echo(text)


@app.command("eval")
def eval_cmd(runs: Annotated[list[Path], typer.Argument(help="One trained run folder, or two: a coarse-ranking run "
                                                             "then a ranking run, evaluated as a cascade.")],
             data: Annotated[Path | None, typer.Option("--data", help="The RecFlow folder (default: the one the first "
                                                                      "run trained on).")] = None,
             m1: Annotated[int, typer.Option(help="Cascade: items the first model keeps per request "
                                                                 "(a generated funnel's rank stage: 60).")] = 60,
             name: NameOpt = None) -> None:
    """Evaluate trained runs on the test day: AUC/GAUC/logloss over exposures and Recall/NDCG@K (original and
    normalised) over all logged candidates, or retrieval Recall/NDCG@K with faiss over the exposed corpus; with
    two runs also LCRON's cascade Recall@k@m (the first keeps its top m1 of the coarse-stage candidates, the
    second picks m of those; truth: the request's effective views)."""
    from labkit.core.errors import ConfigError
    from labkit.core.report import markdown_table
    from labkit.core.runs import start_run
    from labkit.recflow.eval import evaluate_cascade, load_run, trained_on
    from labkit.recflow.retrieval import RetrievalSettings, evaluate_retrieval
    from labkit.recflow.train import evaluate_coarse

    if len(runs) not in (1, 2):
        raise ConfigError("give one trained run, or two (coarse then rank) for the cascade")
    data = data or trained_on(runs[0])
    loaded = [load_run(r, data) for r in runs]
    run = start_run("recflow", name or "eval", {"runs": [str(r) for r in runs], "data": str(data), "m1": m1})
    typer.echo(f"run: {run.dir}", err=True)
    metrics: dict = {}
    parts = []
    for path, (model, s) in zip(runs, loaded, strict=True):
        if isinstance(s, RetrievalSettings):
            m = evaluate_retrieval(data, model, users=s.users, seed=s.seed)
            parts.append(f"{path} (retrieval, {s.negatives}):\n\n" + markdown_table(
                ["K", "Recall@K", "NDCG@K (orig.)"], [[k, f"{m['recall'][k]:.4f}", f"{m['ndcg'][k]:.4f}"]
                                                     for k in m["recall"]]))
        else:
            m = evaluate_coarse(data, model, users=s.users, seed=s.seed)
            parts.append(f"{path} ({s.model}, {s.strategy}):\n\n" + coarse_table([(s.strategy, s.seed, m)]))
        metrics[str(path)] = m
    if len(loaded) == 2:
        (first, s1), (second, s2) = loaded
        if isinstance(s1, RetrievalSettings) or isinstance(s2, RetrievalSettings) or s1.users != s2.users:
            raise ConfigError("a cascade needs two ranking runs (coarse then rank) on the same users")
        c = evaluate_cascade(data, first, second, users=s1.users, seed=s1.seed, m1=m1)
        metrics["cascade"] = c
        cols = list(c["cascade"])
        parts.append(f"Cascade Recall@k@m ({c['requests']} requests with an effective view, "
                     f"{c['skipped_no_positive']} without one skipped, "
                     f"{c['candidates_per_request']:.0f} coarse-stage candidates each; the first keeps {m1}):\n\n" +
                     markdown_table(["", *cols], [[n, *(f"{c[n][k]:.4f}" for k in cols)]
                                                  for n in ("cascade", "coarse_alone", "rank_alone")]))
    text = "\n\n".join(parts)
    run.write_metrics(metrics)
    run.write_report(f"# RecFlow evaluation\n\n{text}\n")
    typer.echo(text)


def _cfg_dict(cfg: RecflowConfig, data: Path) -> dict:
    from labkit.core.config import to_dict

    cfg.data = str(data)
    return to_dict(cfg)


def coarse_table(rows: list[tuple[str, int, dict]]) -> str:
    from labkit.core.report import markdown_table

    out = []
    for strategy, seed, m in rows:
        a, c, r = m["all_stage"], m["coarse"], m["rank"]
        out.append([strategy, seed, f"{m['auc']:.4f}", f"{m['gauc']:.4f}", f"{m['logloss']:.4f}",
                    f"{a['recall'][100]:.4f}", f"{a['ndcg'][100]:.4f}", f"{a['ndcg_normalised'][100]:.4f}",
                    f"{c['recall'][50]:.4f}", f"{r['recall'][50]:.4f}", a["requests"], a["skipped_no_positive"]])
    return markdown_table(["strategy", "seed", "AUC", "GAUC", "logloss", "R@100 all stages", "NDCG@100 (orig.)",
                           "NDCG@100 (norm.)", "R@50 coarse cands.", "R@50 rank cands.", "requests",
                           "skipped (no positive)"], out)


@app.command("experiment", epilog=SETTINGS)
def experiment_cmd(family: Annotated[str, typer.Argument(help="distribution-shift, auxiliary-ranking, fs-ltr, "
                                                             "request-context or retrieval-negatives.")],
                   data: DataArg, name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """One experiment family end to end: every arm x seed (experiment.seeds, 3) trained and evaluated, the
    headline metric's mean ± sd and change against the baseline, a table and a plot. Arms default to the
    family's (distribution-shift: bce, sampling, all; auxiliary-ranking: bce, aux; fs-ltr: bce, fsltr - these three
    on train.task coarse (DSSM) or rank (DIN); request-context: bce, context with DIN; retrieval-negatives: random,
    hard, fsltr); experiment.strategies overrides them."""
    from labkit.core.errors import ConfigError
    from labkit.core.runs import start_run
    from labkit.recflow.eval import settings_of
    from labkit.recflow.experiment import FAMILIES, family_report, run_family
    from labkit.recflow.retrieval import evaluate_retrieval, train_retrieval
    from labkit.recflow.train import evaluate_coarse, train_coarse

    if family not in FAMILIES:
        raise ConfigError(f"unknown experiment family {family!r} (families: {', '.join(FAMILIES)})")
    fam = FAMILIES[family]
    cfg = resolve_config(RecflowConfig, config, list(overrides or []), None)
    arms = list(cfg.experiment.strategies or fam.arms)
    if not fam.either_stage or cfg.train.task not in ("coarse", "rank"):
        cfg.train.task = fam.task  # ranking-stage families run on coarse (default) or rank; the others have one
    run = start_run("recflow", name or family, _cfg_dict(cfg, data))
    typer.echo(f"run: {run.dir}", err=True)

    def train_eval(arm: str, seed: int, folder: Path) -> dict:
        setattr(cfg.train, fam.field, arm)
        cfg.train.seed = seed
        s = settings_of(cfg)
        if fam.task == "retrieval":
            m = evaluate_retrieval(data, train_retrieval(data, s, folder), users=s.users, seed=seed)
        else:
            m = evaluate_coarse(data, train_coarse(data, s, folder), users=s.users, seed=seed)
        run.append({"key": f"{arm}-{seed}", "arm": arm, "seed": seed, "metrics": m})
        return m

    rows = run_family(arms, cfg.experiment.seeds, train_eval, run.dir, log=lambda t: typer.echo(t, err=True))
    text = family_report(rows, run.dir)
    if fam.task != "retrieval":
        text = coarse_table(rows) + "\n\n" + text
    run.write_metrics({"rows": [{"arm": a, "seed": b, **m} for a, b, m in rows]})
    run.write_report(f"# RecFlow: {family} ({cfg.train.task})\n\n{text}")
    typer.echo(text)


def demo(folder: Path) -> str:
    from labkit.recflow.demo import run_demo

    return run_demo(folder)
