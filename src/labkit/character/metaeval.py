"""Judge meta-evaluation (arXiv:2412.11912 Sec. 5.3) and small judges trained on human scores.

- ``metaeval_pred_field``: a released ``pred_*`` column (or any numeric field) vs ``gold``.
- ``metaeval_judge``: run a judge on the records' own replies with and without the reference; the
  ablation shows which dimensions depend on it (released CharacterJudge columns: empathetic .61 -> .37,
  behavior_human .58 -> .04, human_likeness unchanged).
- ``train_judge``: the lite judge (MiniLM features + ridge) or a LoRA of the embedded model, on training
  characters only; held-out correlations next to the word-overlap baseline (and the untuned embedded judge).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from labkit.character.config import CharacterConfig
from labkit.character.data import Sample
from labkit.character.lite import baseline_score, train_lite
from labkit.character.method import judge_run, select_samples
from labkit.character.report import agreement_section
from labkit.core.errors import ConfigError, DataError
from labkit.core.report import markdown_table
from labkit.core.runs import Run, start_run


def _f(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def pred_field_records(cfg: CharacterConfig, field: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Records ``{file, lang, gold, score}`` of a released column, and one line per record left out
    (malformed at load, or no gold score: counted, never dropped silently). A record without the
    column stops the command naming file:line; called before any run folder exists."""
    samples, problems = select_samples(cfg)
    records, left_out = [], list(problems)
    for s in samples:
        value = s.raw.get(field)
        if value is None:
            raise DataError(f"no field '{field}' (released columns: "
                            f"{', '.join(k for k in s.raw if k.startswith('pred')) or 'none'})",
                            path=s.where.rsplit(":", 1)[0], line=int(s.where.rsplit(":", 1)[1]), field=field)
        if s.gold is None:
            left_out.append(f"{s.where}: field 'annotation_score': no gold score; left out of the correlations")
            continue
        try:
            score = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            score = math.nan
        if not math.isfinite(score):
            raise DataError(f"not a finite number: {value!r}", path=s.where.rsplit(":", 1)[0],
                            line=int(s.where.rsplit(":", 1)[1]), field=field) from None
        records.append({"file": s.file, "lang": s.lang, "gold": s.gold, "score": score})
    return records, left_out


def metaeval_pred_field(cfg: CharacterConfig, field: str, prepared: tuple[list[dict[str, Any]], list[str]] | None
                        = None) -> tuple[str, dict[str, Any]]:
    records, left_out = prepared or pred_field_records(cfg, field)
    text, rows = agreement_section(records, cfg.n_boot, f"`{field}`")
    if left_out:
        text += f"\n\n{len(left_out)} record(s) left out; first: {left_out[0]}"
    return text + "\n", {"field": field, "agreement": rows, "records": len(records), "left_out": len(left_out),
                         "problems": left_out}


def metaeval_judge(cfg: CharacterConfig, run: Run) -> tuple[str, dict[str, Any]]:
    """Judge the original replies with the reference, then without it where the rubric uses one."""
    samples, _ = select_samples(cfg)
    with_ref = judge_run(cfg, run, samples)["records"]
    cells = [r["value"] for r in with_ref.values() if r.get("ok")]
    text, agree = agreement_section(cells, cfg.n_boot, f"{cfg.judge.model} (with reference)")
    metrics: dict[str, Any] = {"with_reference": agree}
    ref_samples = [s for s in samples if s.rubric.needs_reference]
    if ref_samples:
        blind = dataclasses.replace(cfg, judge=dataclasses.replace(cfg.judge, use_reference=False))
        sub = start_run("character", "metaeval-no-reference", {}, root=run.dir)
        without = [r["value"] for r in judge_run(blind, sub, ref_samples)["records"].values() if r.get("ok")]
        text2, agree2 = agreement_section(without, cfg.n_boot, f"{cfg.judge.model} (reference hidden)")
        metrics["without_reference"] = agree2
        rows = [[k, _f(agree[k]["pearson"]), _f(agree2.get(k, {}).get("pearson", math.nan))] for k in agree2]
        text += "\n\n" + text2 + "\n\n## Reference ablation (Pearson)\n\n" + markdown_table(
            ["file/lang", "with reference", "reference hidden"], rows)
    invalid = sum(c.get("score") is None for c in cells)
    return text + f"\n\n{invalid} of {len(cells)} judge replies had no valid score (counted, not defaulted).\n", \
        metrics


def _untuned_scores(cfg: CharacterConfig, samples: list[Sample]) -> dict[str, float | None]:
    from labkit.character.judge import make_judge
    from labkit.core.models.batching import for_concurrent_callers
    from labkit.core.models.registry import load_model
    from labkit.core.parallel import parallel_map

    model = for_concurrent_callers(load_model(cfg.judge.model), cfg.workers)
    judge = make_judge(model, mode=cfg.judge.mode, max_profile_chars=cfg.judge.max_profile_chars or 1500,
                       max_turns=cfg.judge.max_turns or 8)
    outs = parallel_map(lambda s: judge(s, s.response)["score"], samples, workers=cfg.workers, desc="untuned judge")
    return {s.id + s.lang: o.value if o.ok else None for s, o in zip(samples, outs, strict=True)}


def train_judge(cfg: CharacterConfig, run: Run, *, kind: str = "lite", steps: int = 200,
                eval_embedded: bool = False) -> tuple[str, dict[str, Any]]:
    """Train on the training characters of each file and language; report held-out correlations."""
    from labkit.core.metrics import pearson
    from labkit.core.models.embed import embed_minilm

    samples, _ = select_samples(cfg)
    start = time.perf_counter()
    if kind == "lite":
        results = train_lite(samples, embed_minilm)
    elif kind == "lora":
        from labkit.character.lora_judge import train_lora_judge

        results = train_lora_judge(samples, steps=steps, folder=run.dir)
    else:
        raise ConfigError(f"--kind must be lite or lora, got {kind!r}")
    seconds = time.perf_counter() - start
    untuned: dict[str, float | None] = {}
    if eval_embedded:
        held = [s for s in samples for key, r in results.items()
                if f"{s.file}/{s.lang}" == key and s.id in set(r["test_ids"])]
        untuned = _untuned_scores(cfg, held)
    rows, metrics = [], {"kind": kind, "train_seconds": seconds, "files": {}}
    for key, r in results.items():
        group = {s.id: s for s in samples if f"{s.file}/{s.lang}" == key}
        ids = r["test_ids"]
        gold = [group[i].gold for i in ids]
        base = [baseline_score(group[i], group[i].response) for i in ids]
        row = {"train": r["train"], "test": r["test"], "judge_pearson": pearson(gold, r["test_pred"]),
               "overlap_pearson": pearson(gold, base)}
        if untuned:
            pairs = [(g, untuned.get(i + group[i].lang)) for g, i in zip(gold, ids, strict=True)]
            pairs = [(g, u) for g, u in pairs if u is not None]
            row["untuned_pearson"] = pearson([g for g, _ in pairs], [u for _, u in pairs]) if pairs else math.nan
            row["untuned_invalid"] = len(ids) - len(pairs)  # no valid score: counted, left out of r
        metrics["files"][key] = row
        rows.append([key, r["train"], r["test"], _f(row["judge_pearson"]), _f(row["overlap_pearson"])]
                    + ([f"{_f(row['untuned_pearson'])} ({row['untuned_invalid']} invalid)"] if untuned else []))
    wins = sum(v["judge_pearson"] > v["overlap_pearson"] for v in metrics["files"].values())
    metrics["beats_overlap"] = wins
    header = ["file/lang", "train", "test", f"{kind} judge r", "word-overlap r"] + (
        ["untuned embedded r"] if untuned else [])
    text = "\n".join([f"# Trained judge ({kind})", "",
                      f"Split by character (no character in both train and test); trained in {seconds:.1f} s. "
                      f"The {kind} judge beats the word-overlap baseline on {wins} of {len(rows)} file/language "
                      "cells (held-out Pearson r with human gold).", "", markdown_table(header, rows)])
    return text + "\n", metrics

