"""Load meta-evaluation data in the upstream formats, unchanged, and validate it.

Formats: HPSS/UniEval JSON arrays (Topical-Chat, SF-HOT, SF-RES, HANNA), SummEval in both published
layouts - the G-Eval/UniEval re-packaging (``doc_id``, ``system_output``, ``scores``) and the release's
own annotation JSONL (``id``, ``model_id``, ``decoded``, ``references``, ``expert_annotations`` of three
experts, averaged as HPSS does; ``text`` holds the article in the paired file) - grouped by document,
never by row order, and a user's own JSONL/CSV with
``source``, ``output``, ``score`` (number or per-aspect mapping), optional ``group``, ``reference``.
Every problem is a DataError naming the file, the record and the field.
"""

from __future__ import annotations

import ast
import math
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.paths import data_dir
from labkit.core.records import csv_records_with_lines, json_array_with_lines, jsonl_with_lines, read_json
from labkit.hpss.tasks import TASKS

JUDGE_SUFFIX = "qwen_2_5_14b"  # the split files' side information was written by this judge


@dataclass
class Item:
    """One judged output with its inputs and human scores."""

    id: str
    fields: dict[str, str]           # "source", "context", "output", ... shown to the judge
    scores: dict[str, float]         # human scores by aspect
    group: str | None = None         # e.g. SummEval doc_id, Topical-Chat context
    extra: dict[str, Any] = field(default_factory=dict)  # generated_reference, metrics_*, ...


@dataclass
class Dataset:
    name: str                        # a key of TASKS
    items: list[Item]
    path: str


def _read_records(path: Path) -> list[tuple[int, Any]]:
    """``(line the record starts on, record)`` of a CSV, JSON-lines or JSON-array file."""
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.suffix == ".csv":
        return csv_records_with_lines(path)
    if path.suffix == ".jsonl":
        return jsonl_with_lines(path)
    return json_array_with_lines(path)


def detect_task(record: dict[str, Any]) -> str:
    """Which upstream format a record is in, from its fields."""
    if "story" in record:
        return "hanna"
    if "system_output" in record and "context" in record:
        return "topical_chat"
    if "system_output" in record and re.match(r"^\??[a-z_]+\(", str(record.get("source", ""))):
        return "sfhot"  # a dialogue act such as inform(name='...'); sfres is told apart by file name
    if "system_output" in record and "doc_id" in record:
        return "summeval"
    if "expert_annotations" in record and "decoded" in record:
        return "summeval"  # the SummEval release's own layout
    return "generic"


def release_scores(rec: dict[str, Any], *, path: str, line: int) -> dict[str, float]:
    """SummEval release: the mean of the experts' scores per aspect (as HPSS and G-Eval use them)."""
    experts = rec.get("expert_annotations")
    if not isinstance(experts, list) or not experts or not all(isinstance(e, dict) for e in experts):
        raise DataError("expected a list of expert score mappings", path=path, line=line, field="expert_annotations")
    aspects = set().union(*experts)
    return {a: sum(as_number(e[a], path=path, line=line, name=f"expert_annotations.{a}") for e in experts if a in e)
            / sum(a in e for e in experts) for a in sorted(aspects)}


def group_field(record: dict[str, Any], task: str) -> str | None:
    """The field that names a record's document, for tasks correlated per document (SummEval)."""
    if task != "summeval":
        return None
    return "doc_id" if "doc_id" in record else "id"


def as_number(value: Any, *, path: str, line: int, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise DataError(f"expected a number, got {value!r}", path=path, line=line, field=name) from None
    if not math.isfinite(out):
        raise DataError(f"score is {out} (not a finite number)", path=path, line=line, field=name)
    return out


def as_mapping(value: Any, *, path: str, line: int, name: str) -> dict[str, Any] | None:
    """A dict, or a Python-literal / JSON string holding one (UniEval's predict_scores); else None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = ast.literal_eval(value)  # literals only: never eval
        except (ValueError, SyntaxError):
            raise DataError("not a valid mapping literal", path=path, line=line, field=name) from None
        if isinstance(parsed, dict):
            return parsed
    return None


def _item(rec: dict[str, Any], task: str, index: int, path: str, aspect: str | None, scored: bool = True,
          line: int | None = None) -> Item:
    """Record number ``index`` (its id when it has none), starting on ``line`` of ``path``, as an Item."""
    line = index if line is None else line

    def need(key: str) -> Any:
        if key not in rec or rec[key] in (None, ""):
            raise DataError("missing", path=path, line=line, field=key)
        return rec[key]

    if task == "generic":
        raw = need("score") if scored else rec.get("score")
        if raw in (None, ""):
            raw = {}
        mapping = as_mapping(raw, path=path, line=line, name="score")
        if mapping is None:
            if aspect is None:
                raise DataError("a plain score needs --aspect", path=path, line=line, field="score")
            mapping = {aspect: raw}
        scores = {k: as_number(v, path=path, line=line, name=f"score.{k}") for k, v in mapping.items()}
        fields = {"source": str(need("source")), "output": str(need("output"))}
        if rec.get("reference"):
            fields["reference"] = str(rec["reference"])
        group = rec.get("group")
    elif "expert_annotations" in rec:  # SummEval release layout
        fields = {"source": str(need("text")), "output": str(need("decoded"))}  # text: the paired file's article
        refs = rec.get("references")
        if isinstance(refs, list) and refs:
            fields["reference"] = str(refs[0])
        scores = release_scores(rec, path=path, line=line)
        group = need("id")
        rec = {**rec, "id": f"{rec['id']}/{rec.get('model_id', index)}"}
    else:
        out_key = "story" if task == "hanna" else "system_output"
        src_key = "prompt" if task == "hanna" else "source"
        fields = {"source": str(need(src_key)), "output": str(need(out_key))}
        if task == "topical_chat":
            fields["context"] = str(rec.get("context", "")).strip()
        if rec.get("reference"):
            fields["reference"] = str(rec["reference"])
        scores_raw = need("scores") if scored else rec.get("scores") or {}
        if not isinstance(scores_raw, dict):
            raise DataError("expected a mapping of aspect scores", path=path, line=line, field="scores")
        scores = {k: as_number(v, path=path, line=line, name=f"scores.{k}") for k, v in scores_raw.items()}
        group = rec.get("doc_id", rec.get("story_id"))
    extra = {k: v for k, v in rec.items() if k == "generated_reference" or k.startswith("metrics_")}
    item_id = rec.get("id", index)
    return Item(id=str(item_id), fields=fields, scores=scores,
                group=None if group is None else str(group), extra=extra)


def load_file(path: str | Path, *, task: str | None = None, aspect: str | None = None,
              scored: bool = True) -> Dataset:
    """Read one file in any supported format; errors name the line a record starts on (CSV: its row's line).

    ``scored=False`` accepts records without human scores (outputs to be judged)."""
    path = Path(path)
    numbered = _read_records(path)
    if not numbered:
        raise DataError("no records", path=str(path))
    for line, rec in numbered:
        if not isinstance(rec, dict):
            raise DataError("record is not an object", path=str(path), line=line)
    name = task or detect_task(numbered[0][1])
    if name == "sfhot" and "sfres" in path.name:
        name = "sfres"
    items = [_item(rec, name, i, str(path), aspect, scored, line) for i, (line, rec) in enumerate(numbered)]
    if aspect is not None and scored:
        missing = next((line for (line, _), it in zip(numbered, items, strict=True) if aspect not in it.scores),
                       None)
        if missing is not None:
            raise DataError(f"no human score for aspect '{aspect}'", path=str(path), line=missing,
                            field="scores")
    seen: dict[str, int] = {}
    repeats = [(line, it.id) for (line, _), it in zip(numbered, items, strict=True)
               if seen.setdefault(it.id, line) != line]
    if repeats:  # ids must be unique: number them, and say so
        print(f"note: {path}: {len(repeats)} record(s) repeat an id (first: {repeats[0][1]!r} at line {repeats[0][0]},"
              f" first seen at line {seen[repeats[0][1]]}); items are numbered by position instead", file=sys.stderr)
        for i, it in enumerate(items):
            it.id = str(i)
    return Dataset(name, items, str(path))


def split_paths(name: str, judge_suffix: str = JUDGE_SUFFIX) -> tuple[Path, Path] | None:
    """HPSS's own validation/test split files for a dataset name, if shipped."""
    folder = data_dir() / "hpss" / "hpss_splits" / name
    valid, test = (folder / f"{name}_{part}_{judge_suffix}.json" for part in ("valid", "test"))
    return (valid, test) if valid.exists() and test.exists() else None


def load_splits(spec: str, *, aspect: str | None = None, valid_fraction: float = 0.5,
                seed: int = 0) -> tuple[Dataset, Dataset]:
    """Validation and test sets: HPSS's splits for a known name, else a seeded split of a file.

    A file is split by group (all outputs for one source stay together), so no source leaks
    from validation into test.
    """
    if spec in TASKS and spec != "generic":
        paths = split_paths(spec)
        if paths is None:
            raise DataError(f"HPSS splits for '{spec}' not found under {data_dir() / 'hpss'} "
                            "(set LABKIT_DATA_DIR or pass a file)")
        return load_file(paths[0], task=spec, aspect=aspect), load_file(paths[1], task=spec, aspect=aspect)
    data = load_file(spec, aspect=aspect)
    keys = list(dict.fromkeys(it.group or it.fields["source"] for it in data.items))
    random.Random(seed).shuffle(keys)
    valid_keys = set(keys[:max(1, round(len(keys) * valid_fraction))])
    valid = [it for it in data.items if (it.group or it.fields["source"]) in valid_keys]
    test = [it for it in data.items if (it.group or it.fields["source"]) not in valid_keys]
    return Dataset(data.name, valid, data.path), Dataset(data.name, test, data.path)


def predictions(path: str | Path, pred_field: str, aspect: str,
                group_by: str | None = None) -> tuple[list[float], list[float], list[str], str | None]:
    """(human, predicted, group, grouping field) for ``metaeval``: pred_field holds a number or an aspect
    mapping. ``group_by=None`` uses the task's default (SummEval: per document, as ``hpss search``);
    ``"none"`` correlates at dataset level."""
    path = Path(path)
    numbered = _read_records(path)
    if not numbered:
        raise DataError("no records", path=str(path))
    if group_by is None and isinstance(numbered[0][1], dict):
        group_by = group_field(numbered[0][1], detect_task(numbered[0][1]))
    group_by = None if group_by in (None, "none") else group_by
    human, pred, groups = [], [], []
    for i, rec in numbered:
        if not isinstance(rec, dict):
            raise DataError("record is not an object", path=str(path), line=i)
        if pred_field not in rec:
            raise DataError("missing", path=str(path), line=i, field=pred_field)
        value = rec[pred_field]
        mapping = as_mapping(value, path=str(path), line=i, name=pred_field)
        if mapping is not None:
            if aspect not in mapping:
                raise DataError(f"no '{aspect}' in the mapping", path=str(path), line=i, field=pred_field)
            value = mapping[aspect]
        scores = release_scores(rec, path=str(path), line=i) if "expert_annotations" in rec else \
            rec.get("scores", rec.get("score"))
        scores_map = as_mapping(scores, path=str(path), line=i, name="scores")
        if scores_map is None and scores is not None:  # a user's file: one plain human score
            scores_map = {aspect: scores}
        if scores_map is None:
            raise DataError("missing human scores", path=str(path), line=i, field="scores")
        if aspect not in scores_map:
            raise DataError(f"no human score for '{aspect}'", path=str(path), line=i, field="scores")
        human.append(as_number(scores_map[aspect], path=str(path), line=i, name=f"scores.{aspect}"))
        pred.append(as_number(value, path=str(path), line=i, name=pred_field))
        if group_by is not None and group_by not in rec:
            raise DataError("missing group field", path=str(path), line=i, field=group_by)
        groups.append(str(rec[group_by]) if group_by else str(len(groups)))
    return human, pred, groups, group_by


# ---- HPSS's initialization results (hpss_initiation_metrics/<ds>/qwen_2_5_14b/<variant>.json) ----
# variant file -> the one-factor change it made to the default; irregular names mapped explicitly
VARIANTS: dict[str, tuple[str, Any] | None] = {
    "baseline": None,
    "scale_3": ("scale", 3), "scale_5": ("scale", 5), "scale_10": ("scale", 10),
    "scale_50": ("scale", 50), "scale_100": ("scale", 100),
    "wo_criteria": ("criteria", "NoCriteria"), "self_generated_criteria": ("criteria", "LLM"),
    "cot_suffix": ("cot", "Suffix"), "cot_free": ("cot", "Free"),
    "autocot": ("autocot", "AutoCoT"), "metrics": ("metrics", "Metrics"),
    "example_3": ("examples", "Example3"), "example_5": ("examples", "Example5"),
    "example_10": ("examples", "Example10"),
    "self_generated_reference": ("reference", "Reference"),
    "self_reference": ("reference", "Reference"),  # SF-RES's name for the same variant
    "dialectic": ("reference", "Dialectic"),
    "tie": ("order", "TIE"), "ite": ("order", "ITE"), "iet": ("order", "IET"),
    "eit": ("order", "EIT"), "eti": ("order", "ETI"),
}


@dataclass
class Initiation:
    """Validation Spearman per aspect of the default and of each one-factor change."""

    dataset: str
    baseline: dict[str, float]
    changes: dict[tuple[str, Any], dict[str, float]]

    def average(self, scores: dict[str, float]) -> float:
        return sum(scores.values()) / len(scores)

    def effects(self) -> dict[tuple[str, Any], float]:
        """Average-over-aspects Spearman of each change minus the default's."""
        base = self.average(self.baseline)
        return {change: self.average(s) - base for change, s in self.changes.items()}


def load_initiation(dataset: str, judge_suffix: str = JUDGE_SUFFIX, root: Path | None = None) -> Initiation:
    folder = (root or data_dir() / "hpss" / "hpss_initiation_metrics") / dataset / judge_suffix
    if not folder.is_dir():
        raise DataError("initialization results not found", path=str(folder))
    baseline: dict[str, float] = {}
    changes: dict[tuple[str, Any], dict[str, float]] = {}
    files: dict[tuple[str, Any], Path] = {}
    for path in sorted(folder.glob("*.json")):
        if path.stem not in VARIANTS:
            raise DataError(f"unknown variant file (known: {sorted(VARIANTS)})", path=str(path))
        data = read_json(path, dict)
        scores = {}
        for aspect, entry in data.items():
            if aspect == "average":
                continue
            value = entry.get("correlation") if isinstance(entry, dict) else None
            value = value.get("Spearman") if isinstance(value, dict) else None
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not -1 <= value <= 1:
                raise DataError("no correlation.Spearman in [-1, 1]", path=str(path), field=aspect)
            scores[aspect] = float(value)
        if not scores:
            raise DataError("no aspect's correlation", path=str(path))
        change = VARIANTS[path.stem]
        if change is None:
            baseline = scores
        else:
            changes[change], files[change] = scores, path
    if not baseline:
        raise DataError("no baseline.json", path=str(folder))
    for change, scores in changes.items():  # an effect compares the same aspects' average
        if scores.keys() != baseline.keys():
            raise DataError(f"aspects {sorted(scores)} differ from {folder / 'baseline.json'}'s {sorted(baseline)}",
                            path=str(files[change]))
    return Initiation(dataset, baseline, changes)


def read_strategy(path: Path) -> dict[str, Any]:
    """An exported judge (``best.yaml`` of a search run), checked whole: task, aspect, judge, the 8 factor
    values of ``strategy`` and the fixed side information (text or null). A ConfigError names the file and key."""
    from labkit.core.config import read_yaml
    from labkit.core.errors import ConfigError
    from labkit.hpss.space import PAPER_FACTORS, check_value

    exported = read_yaml(path)
    missing = [k for k in ("task", "aspect", "strategy", "judge") if k not in exported]
    if missing:
        raise ConfigError(f"{path}: not an exported strategy (missing {missing})")
    if exported["task"] not in TASKS:
        raise ConfigError(f"{path}: 'task' must be one of {sorted(TASKS)}, got {exported['task']!r}")
    for key in ("aspect", "judge"):
        if not isinstance(exported[key], str) or not exported[key]:
            raise ConfigError(f"{path}: '{key}' must be a non-empty string, got {exported[key]!r}")
    values = exported["strategy"]
    if not isinstance(values, dict) or set(values) != set(PAPER_FACTORS):
        raise ConfigError(f"{path}: 'strategy' must map each of {list(PAPER_FACTORS)} to a value")
    for factor, value in values.items():
        try:
            check_value(factor, value)
        except ConfigError as exc:
            raise ConfigError(f"{path}: 'strategy.{factor}': {exc}") from None
    for key in ("criterion", "autocot", "examples"):
        if exported.get(key) is not None and not isinstance(exported[key], str):
            raise ConfigError(f"{path}: '{key}' must be text or null, got {type(exported[key]).__name__}")
    return exported
