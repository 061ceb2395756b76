"""``labkit character``: role-play generation, per-dimension judging, reports and judge meta-evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from labkit.character.config import CharacterConfig
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

app = system_app("CharacterBench (Zhou et al., AAAI 2025, arXiv:2412.11912): role-play replies scored on 11 "
                  "dimensions in 6 aspects; judges checked against human scores.")

SETTINGS = settings_epilog(CharacterConfig)
DataOpt = Annotated[Path | None, typer.Option("--data", help="Folder with the upstream *_test.json files.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh, en, or zh,en (default zh).")]
DimsOpt = Annotated[str | None, typer.Option("--dims", help="Comma-separated files/dimensions (default: all present).")]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="At most N records per file and language.")]


def _config(config: Path | None, overrides: list[str] | None, resume: Path | None, **given: Any) -> CharacterConfig:
    keys = {"lang": "langs", "dims": "files", "judge": "judge.model", "model": "generate.model",
            "mode": "judge.mode", "samples": "judge.samples"}
    sets = overrides_from(given, keys, lists=("lang", "dims"))
    return resolve_config(CharacterConfig, config, sets + list(overrides or []), resume)


def _start(cfg: CharacterConfig, command: str, name: str | None, resume: Path | None):  # noqa: ANN202 - Run
    from labkit.core.runs import resume_run, start_run

    run = resume_run(resume) if resume else start_run("character", name or command, to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    return run


def _problems(problems: list[str]) -> None:
    if problems:
        typer.echo(f"{len(problems)} malformed record(s) skipped; first: {problems[0]}", err=True)


@app.command("generate", epilog=SETTINGS)
def generate_cmd(model: model_option("--model", "Role-play model (paper: 13+ systems through their APIs).",
                                     short="-m") = None,
                 lang: LangOpt = None, dims: DimsOpt = None, limit: LimitOpt = None, data: DataOpt = None,
                 name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
                 resume: ResumeOpt = None) -> None:
    """Write the model's in-character reply for every record (JSON-parsed strictly, cached, resumable)."""
    from labkit.character.method import generate_run, select_samples

    cfg = _config(config, overrides, resume, model=model, lang=lang, dims=dims, limit=limit, data=data)
    samples, problems = select_samples(cfg)
    _problems(problems)
    run = _start(cfg, "generate", name, resume)
    records = generate_run(cfg, run, samples)
    ok = sum(r.get("ok", False) for r in records.values())
    run.write_metrics({"records": len(records), "valid": ok, "failed": len(records) - ok})
    typer.echo(f"{ok} of {len(records)} replies valid; failures are in {run.results_path} (retried by --resume)")
    typer.echo(f"judge them: labkit character judge --responses {run.dir}")


@app.command("judge", epilog=SETTINGS)
def judge_cmd(judge: model_option("--judge", "Judge (default smollm2; faithful: "
                                  "openai:thu-coai/CharacterJudge@<vLLM url>).") = None,
              responses: Annotated[str | None, typer.Option(help=(
                  "'original' (the records' replies, default) or a generate run folder; --resume reuses the run's."))
                                   ] = None,
              no_reference: Annotated[bool, typer.Option("--no-reference", help="Hide the rubric's reference.")
                                      ] = False,
              mode: Annotated[str | None, typer.Option(help="auto | generate | expected.")] = None,
              samples: Annotated[int | None, typer.Option(help="Self-consistency samples (1 = greedy).")] = None,
              lang: LangOpt = None, dims: DimsOpt = None, limit: LimitOpt = None, data: DataOpt = None,
              name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None,
              resume: ResumeOpt = None) -> None:
    """Score replies with one rubric per dimension; unscorable replies are counted, never defaulted."""
    from labkit.character.method import judge_run, responses_from, sample_key, select_samples
    from labkit.core.errors import DataError

    cfg = _config(config, (["judge.use_reference=false"] if no_reference else []) + list(overrides or []), resume,
                  judge=judge, lang=lang, dims=dims, limit=limit, data=data, mode=mode, samples=samples)
    selected, problems = select_samples(cfg)
    _problems(problems)
    source_file = resume / "source.txt" if resume else None
    if responses is None:
        responses = source_file.read_text().strip() if source_file and source_file.exists() else "original"
    replies = responses_from(responses, selected)  # a generate run folder is checked before a run folder exists
    if not any(sample_key(s) in replies for s in selected):
        raise DataError(f"no reply for any of the {len(selected)} selected records", path=str(
            Path(responses) / "results.jsonl") if responses != "original" else None)
    run = _start(cfg, "judge", name, resume)
    (run.dir / "source.txt").write_text(responses + "\n")
    out = judge_run(cfg, run, selected, responses, replies=replies)
    if out["missing_replies"]:
        typer.echo(f"{len(out['missing_replies'])} record(s) have no reply in {responses}", err=True)
    _write_report(run.dir, cfg)


def _write_report(folder: Path, cfg: CharacterConfig) -> None:
    from labkit.character.report import agreement_section, counts_line, scores_section
    from labkit.core.runs import check_fields, resume_run

    run = resume_run(folder)
    latest = run.latest()
    records = [r["value"] for r in latest.values() if r.get("ok")]
    number = (int, float, type(None))
    for key, r in latest.items():  # a folder from elsewhere: every verdict the report reads is checked first
        if r.get("ok"):
            check_fields(r["value"], {"file": str, "lang": str, "model": str, "score": number, "gold": number},
                         key=key, path=str(run.results_path), what="a `character judge` verdict")
    failed = sum(not r.get("ok") for r in latest.values())
    scores_md, board = scores_section(records, folder)
    agree_md, agree = agreement_section(records, cfg.n_boot, cfg.judge.model)
    text = "\n\n".join(p for p in ["# CharacterBench run", counts_line(records, failed), scores_md, agree_md] if p)
    run.write_report(text + "\n")
    run.write_metrics({"records": len(records), "invalid": sum(r.get("score") is None for r in records),
                       "harness_failures": failed,
                       "leaderboard": board, "agreement": agree})
    typer.echo(counts_line(records, failed))
    for model, s in list(board.items())[:10]:
        typer.echo(f"  {model:20} overall {s['overall']:.2f} (upstream formula {s['upstream_overall']:.2f}) "
                   f"over {s['records']} records")
    for key, row in agree.items():
        typer.echo(f"  {key}: pearson {row['pearson']:.3f} spearman {row['spearman']:.3f} qwk {row['qwk']:.3f}")
    typer.echo(f"report: {folder / 'report.md'}")


@app.command("report")
def report_cmd(run: Annotated[Path, typer.Argument(help="A judge run folder.")]) -> None:
    """Per-dimension, per-aspect, sparse/dense and overall scores, leaderboard, radar plot, agreement."""
    cfg = resolve_config(CharacterConfig, None, None, run)
    _write_report(run, cfg)


@app.command("metaeval", epilog=SETTINGS)
def metaeval_cmd(pred_field: Annotated[str | None, typer.Option("--pred-field", help=(
                     "Score a released column (pred_zh, pred_en_sc, pred_zh_ref_free, ...) against gold."))] = None,
                 judge: model_option("--judge", "Or run this judge, with and without reference.") = None,
                 lang: LangOpt = None, dims: DimsOpt = None, limit: LimitOpt = None, data: DataOpt = None,
                 name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Judge scores vs human gold: Pearson, Spearman, Kendall, QWK, exact match, bootstrap CIs, per file and
    language; with --judge also the reference ablation."""
    from labkit.character.metaeval import metaeval_judge, metaeval_pred_field, pred_field_records
    from labkit.character.method import select_samples
    from labkit.core.errors import ConfigError

    if (pred_field is None) == (judge is None):
        raise ConfigError("give exactly one of --pred-field F or --judge SPEC")
    cfg = _config(config, overrides, None, judge=judge, lang=lang, dims=dims, limit=limit, data=data)
    # bad data fails here, before a run folder exists; every record left out is counted and the first shown
    prepared = pred_field_records(cfg, pred_field) if pred_field else None
    left_out = prepared[1] if prepared else select_samples(cfg)[1]
    if left_out:
        typer.echo(f"{len(left_out)} record(s) left out; first: {left_out[0]}", err=True)
    run = _start(cfg, "metaeval", name, None)
    text, metrics = metaeval_pred_field(cfg, pred_field, prepared) if pred_field else metaeval_judge(cfg, run)
    run.write_report(text)
    run.write_metrics(metrics)
    typer.echo(text)
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("train-judge", epilog=SETTINGS)
def train_judge_cmd(kind: Annotated[str, typer.Option(help="lite (MiniLM + ridge, minutes on CPU) or lora "
                                                     "(LoRA on the embedded model, score tokens only).")] = "lite",
                    steps: Annotated[int, typer.Option(help="LoRA training steps (lora only).", min=1)] = 200,
                    eval_embedded: Annotated[bool, typer.Option(help=(
                        "Also score the held-out records with the untuned embedded judge (slow on CPU)."))] = False,
                    lang: LangOpt = None, dims: DimsOpt = None, limit: LimitOpt = None, data: DataOpt = None,
                    name: NameOpt = None, config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Train a small judge on human-scored records, split by character; report held-out correlations next to
    the word-overlap baseline (and the untuned embedded judge)."""
    from labkit.character.metaeval import train_judge

    cfg = _config(config, overrides, None, lang=lang, dims=dims, limit=limit, data=data)
    run = _start(cfg, f"train-{kind}", name, None)
    text, metrics = train_judge(cfg, run, kind=kind, steps=steps, eval_embedded=eval_embedded)
    run.write_report(text)
    run.write_metrics(metrics)
    typer.echo(text)
    typer.echo(f"report: {run.dir / 'report.md'}")


def demo(folder: Path) -> str:
    from labkit.character.demo import run_demo

    return run_demo(folder)
