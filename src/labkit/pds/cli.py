"""``labkit pds``: PDS (Gu et al., ICLR 2025, arXiv:2410.07064) - data selection by optimal control."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labkit.core.cli import ConfigOpt, NameOpt, SetOpt, resolve_config, settings_epilog, system_app
from labkit.core.config import to_dict
from labkit.pds.config import PdsConfig

app = system_app("PDS (Gu et al., ICLR 2025, arXiv:2410.07064): PMP data scores with torch.func, a data "
                  "scorer, corpus scoring in shards and Gumbel-top-k selection. Pipeline: solve (proxy scores) -> "
                  "fit-scorer -> score (whole corpus) -> select -> pretrain (selected vs random at equal tokens); "
                  "`make-toy` writes the text toy, `solve` without --corpus runs the noisy-label logistic toy.")
SETTINGS = settings_epilog(PdsConfig)


CorpusOpt = Annotated[Path, typer.Option(help="Corpus: JSON lines with a 'text' field.")]
TargetOpt = Annotated[Path, typer.Option(help="Target set J: .txt (documents separated by blank lines) or .jsonl "
                                               "('text', or LIMA's 'conversations').")]


@app.command("make-toy")
def make_toy_cmd(out: Annotated[Path, typer.Option(help="Folder for corpus.jsonl and target.txt.")],
                 documents: Annotated[int, typer.Option(help="Corpus documents.", min=1)] = 2000,
                 clean_share: Annotated[float, typer.Option(help="Share of clean documents in the corpus.", min=0.0,
                                                            max=1.0)] = 0.3,
                 seed: Annotated[int, typer.Option(help="Seed.", min=0)] = 0) -> None:
    """Write the text toy: a corpus mixing a clean style (short grammatical sentences) with three junk styles
    (letter noise, word salad, one word repeated), each document labelled in a 'style' field, and 200 clean
    target documents that are not in the corpus."""
    from labkit.pds.data import make_text_toy, write_text_toy

    corpus, target = write_text_toy(make_text_toy(documents, 200, clean_share, seed), out)
    typer.echo(f"wrote {corpus} and {target}")


@app.command("solve", epilog=SETTINGS)
def solve_cmd(mode: Annotated[str | None, typer.Option(help="paper (one epoch, raw scores) or exact (outer "
                                                           "loop).")] = None,
              corpus: Annotated[Path | None, typer.Option(help="Corpus (JSON lines with 'text'): score a proxy "
                                                               "sample of it with the proxy LM; without it, the "
                                                               "logistic toy.")] = None,
              target: Annotated[Path | None, typer.Option(help="Target set J for --corpus (.txt or .jsonl).")] = None,
              seeds: Annotated[int, typer.Option(help="Toy only: also re-draw the toy with this many data seeds "
                                                      "and report selected vs random (mean +- SD, plain and cosine "
                                                      "scores); 1 = the one toy.", min=1)] = 1,
              name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """PMP scores. With --corpus/--target: a proxy LM (lm.proxy) trained by full-batch gradient steps on a proxy
    sample of the corpus, J = its mean token loss on the target; writes scores.jsonl for `fit-scorer`. Without:
    the noisy-label logistic toy (d 20, 400 examples, 24.5% flipped, T 200, eta 2): AUROC clean vs flipped, and
    the target-loss area of the top-r, Gumbel-top-r and random r subsets against all data."""
    from labkit.core.errors import ConfigError
    from labkit.core.runs import start_run
    from labkit.pds.report import toy_report, write_lm_scores

    cfg = resolve_config(PdsConfig, config, ([f"mode={mode}"] if mode else []) + list(overrides or []), None)
    if (corpus is None) != (target is None):
        raise ConfigError("--corpus and --target go together (or neither, for the logistic toy)")
    if seeds > 1 and corpus is not None:
        raise ConfigError("--seeds re-draws the logistic toy; it does not apply with --corpus")
    inputs = None
    if corpus is not None and target is not None:
        from labkit.pds.data import read_corpus, read_target

        inputs = read_corpus(corpus), read_target(target)  # checked before a run folder exists
    run = start_run("pds", name or "solve", {**to_dict(cfg), "corpus": str(corpus) if corpus else None,
                                             "target": str(target) if target else None})
    typer.echo(f"run: {run.dir}", err=True)
    if inputs is not None:
        text = write_lm_scores(cfg, corpus, target, run, *inputs)
        typer.echo(text)
        typer.echo(f"report: {run.dir / 'report.md'}")
        return
    text, metrics = toy_report(cfg, run.dir)
    if seeds > 1:
        from labkit.pds.eval import seed_study

        typer.echo(f"seed study: {seeds} data seeds x plain and cosine scores", err=True)
        more, metrics["seed_study"] = seed_study(cfg, seeds)
        text += "\n## Over data seeds\n\n" + more
    run.write_metrics(metrics)
    run.write_report(f"# PDS on the noisy-label toy\n\n{text}")
    typer.echo(text)
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("fit-scorer", epilog=SETTINGS)
def fit_scorer_cmd(scores: Annotated[Path, typer.Option(help="A `solve --corpus` run folder (scores.jsonl).")],
                   head: Annotated[str | None, typer.Option(help="ridge (MiniLM + ridge, default), finetune "
                                                                 "(MiniLM head fine-tuned) or auto (the better "
                                                                 "validation Spearman).")] = None,
                   out: Annotated[Path | None, typer.Option(help="Scorer folder (default: <scores>/scorer).")] = None,
                   config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Train the data scorer to predict the solver's scores from text; report the held-out Spearman per head."""
    import json

    import numpy as np

    from labkit.pds.data import read_solver_scores
    from labkit.pds.scorer import fit_scorer

    cfg = resolve_config(PdsConfig, config, ([f"scorer.head={head}"] if head else []) + list(overrides or []), None)
    texts, values = read_solver_scores(scores)  # checked whole before any work
    scorer, report = fit_scorer(texts, np.array(values), cfg.scorer)
    folder = scorer.save(out or scores / "scorer")
    (folder / "fit.json").write_text(json.dumps(report, indent=1))
    rho = ", ".join(f"{h} {v:.3f}" for h, v in report["spearman"].items())
    typer.echo(f"validation Spearman ({report['validation']} held-out documents): {rho}; kept {report['head']}")
    typer.echo(f"scorer: {folder}")


@app.command("score")
def score_cmd(corpus: CorpusOpt, scorer: Annotated[Path, typer.Option(help="Scorer folder (from fit-scorer).")],
              out: Annotated[Path, typer.Option(help="Folder for the score shards (re-run to resume).")],
              shard_size: Annotated[int, typer.Option(help="Documents per shard.", min=1)] = 1000,
              workers: Annotated[int, typer.Option(help="Scoring processes (or Ray actors with --ray).", min=1)] = 1,
              ray: Annotated[bool, typer.Option("--ray", help="Score with Ray Data map_batches.")] = False) -> None:
    """Score a whole corpus with the data scorer, in resumable shards (a re-run scores only missing shards)."""
    from labkit.core.errors import LabkitError
    from labkit.pds.corpus import score_corpus

    info = score_corpus(corpus, scorer, out, shard_size=shard_size, workers=workers, ray=ray)
    typer.echo(f"{info['documents']} documents in {info['shards']} shards: {info['scored']} scored now, "
               f"{info['skipped']} already done, {info['failed']} failed" +
               (f" (first: {info['first_error']})" if info["first_error"] else ""))
    if info["failed"]:
        raise LabkitError(f"{info['failed']} shard(s) failed; re-run the same command to retry them")


@app.command("select", epilog=SETTINGS)
def select_cmd(scores: Annotated[Path, typer.Option(help="Score shards folder (from score).")],
               out: Annotated[Path, typer.Option(help="Output JSONL of the kept documents (corpus order).")],
               r: Annotated[float | None, typer.Option(help="Share kept, in (0, 1]: the `r` key (paper 0.4).")] = None,
               tau: Annotated[float | None, typer.Option(help="Gumbel temperature, > 0: the `tau` key (paper 0.1).")
                              ] = None,
               seed: Annotated[int | None, typer.Option(help="Seed of the Gumbel noise: the `select_seed` key.")
                               ] = None,
               config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Keep exactly floor(r N) documents by Gumbel-top-k in one streaming pass (no sort of the whole corpus)."""
    from labkit.core.cli import overrides_from
    from labkit.pds.corpus import select_corpus

    cfg = resolve_config(PdsConfig, config, overrides_from({"r": r, "tau": tau, "select_seed": seed}) +
                         list(overrides or []), None,  # ranges checked by the config: r in (0, 1], tau > 0
                         flags={"r": "--r", "tau": "--tau", "select_seed": "--seed"})
    info = select_corpus(scores, out, r=cfg.r, tau=cfg.tau, seed=cfg.select_seed)
    typer.echo(f"kept {info['kept']} of {info['documents']} documents (r {cfg.r}, tau {cfg.tau}, seed "
               f"{cfg.select_seed}): {out}")


@app.command("pretrain", epilog=SETTINGS)
def pretrain_cmd(corpus: CorpusOpt, selected: Annotated[Path, typer.Option(help="Selected documents (JSONL).")],
                 target: TargetOpt, name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """A tiny LM trained from scratch on the selected documents and on a random subset of the same size, at equal
    tokens: target-loss curves (plot), their areas, and tokens to reach random's final loss."""
    from labkit.core.runs import start_run
    from labkit.pds.data import read_corpus, read_target
    from labkit.pds.eval import compare_pretrain
    from labkit.pds.report import pretrain_report

    cfg = resolve_config(PdsConfig, config, list(overrides or []), None)
    inputs = read_corpus(corpus), read_corpus(selected), read_target(target)  # before a run folder exists
    run = start_run("pds", name or "pretrain", {**to_dict(cfg), "corpus": str(corpus), "selected": str(selected),
                                                "target": str(target)})
    typer.echo(f"run: {run.dir}", err=True)
    res = compare_pretrain(*inputs, cfg)
    run.write_metrics(res)
    text = pretrain_report(res, run.dir)
    run.write_report(f"# PDS: selected vs random pre-training\n\n{text}")
    typer.echo(text)
    typer.echo(f"report: {run.dir / 'report.md'}")


def demo(folder: Path) -> str:
    from labkit.pds.demo import run_demo

    return run_demo(folder)
