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
                  "cascade stage kept and dropped per request). Built so far: `generate` (a synthetic funnel in the "
                  "official layout with a hidden truth) and `validate` (any folder, generated or downloaded); "
                  "training, evaluation and the experiment families are not built yet.", no_args_is_help=True)
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
