"""Sweep results to fit: a labkit sweep run folder, or a plain CSV / JSON-lines file of points from any trainer
(OpenRLHF, verl, TRL scripts), one row per (setting, seed):

    n,seed,accuracy,accuracy_before          # accuracy_before optional; other numeric axis columns allowed
    1,0,0.41,0.33

Every row becomes the record ``analysis`` reads (``axis``, ``settings``, ``gain``, ``algorithm``): the y of a curve
is ``gain`` when the file has it, else ``accuracy - accuracy_before``, else ``accuracy``. A row missing a field
or with a value that is not a finite number is a DataError naming ``file:line`` and the field.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.records import jsonl_with_lines, text_stream

AXES = ("n", "prompts", "rm_prompts", "task_size", "kl", "lr", "epochs")  # the numeric axes a curve is fitted on


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line, row)`` pairs of a .csv or .jsonl file."""
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text_stream(path))
        rows = [(reader.line_num, dict(row)) for row in reader]
        if reader.fieldnames is None:
            raise DataError("empty file (expected a header line)", path=str(path), line=1)
        return rows
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = jsonl_with_lines(path)
        for line, row in rows:
            if not isinstance(row, dict):
                raise DataError("each line must be a JSON object", path=str(path), line=line)
        return rows
    raise DataError("expected a sweep run folder, a .csv or a .jsonl file", path=str(path))


def _number(row: dict[str, Any], key: str, path: Path, line: int) -> float:
    value = row.get(key)
    if value is None or value == "":
        raise DataError("missing", path=str(path), line=line, field=key)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise DataError(f"not a number: {value!r}", path=str(path), line=line, field=key) from None
    if not math.isfinite(out):
        raise DataError(f"not a finite number: {value!r}", path=str(path), line=line, field=key)
    return out


def read_points(path: Path, axis: str | None = None) -> tuple[list[dict[str, Any]], str, str]:
    """Records for ``analysis.analyse`` from a CSV/JSONL file; also the axis and the name of y."""
    rows = read_rows(path)
    if not rows:
        raise DataError("no rows", path=str(path))
    columns = set().union(*(row for _, row in rows))
    present = [a for a in AXES if a in columns]
    if axis is None:
        if len(present) != 1:
            raise DataError(f"name the x column with --axis (axis columns found: {present or 'none'}; known: "
                            f"{', '.join(AXES)})", path=str(path))
        axis = present[0]
    elif axis not in columns:
        raise DataError(f"no column '{axis}' (columns: {', '.join(sorted(columns))})", path=str(path))
    y_name = "gain" if "gain" in columns else "accuracy - accuracy_before" if "accuracy_before" in columns \
        else "accuracy"
    out = []
    for line, row in rows:
        x = _number(row, axis, path, line)
        if x <= 0:
            raise DataError(f"must be > 0 (a count or a rate), got {row[axis]!r}", path=str(path), line=line,
                            field=axis)
        seed = _number(row, "seed", path, line)
        if "gain" in columns:
            y = _number(row, "gain", path, line)
        else:
            y = _number(row, "accuracy", path, line)
            if "accuracy_before" in columns:
                y -= _number(row, "accuracy_before", path, line)
        out.append({"axis": axis, "settings": {axis: x, "seed": int(seed)}, "gain": y,
                    "algorithm": str(row.get("algorithm") or ""), "line": line})
    return out, axis, y_name


def read_run(folder: Path) -> tuple[list[dict[str, Any]], int]:
    """The finished points of a sweep run folder and how many failed."""
    from labkit.core.runs import resume_run

    if not (folder / "results.jsonl").exists():
        raise DataError("not a sweep run folder (no results.jsonl)", path=str(folder))
    run = resume_run(folder)
    latest = run.latest().values()
    points = [r for r in latest if r.get("ok")]
    for r in points:
        _check_point(r.get("value"), r["key"], str(run.results_path))
    return [r["value"] for r in points], sum(not r.get("ok") for r in latest)


def _check_point(value: Any, key: str, path: str) -> None:
    """A DataError naming the results file, the record and the field when ``value`` is not a point as `rlhf
    sweep` writes it (what the analysis reads: axis, settings with n and the axis, finite accuracies and gain)."""
    def bad(field: str, want: str) -> DataError:
        return DataError(f"record {key!r} is not a sweep point ({want})", path=path, field=field)

    if not isinstance(value, dict) or not (value.get("axis") is None or isinstance(value.get("axis"), str)):
        raise bad("axis", "null for the base point, or the name of the axis varied")
    settings = value.get("settings")
    if not isinstance(settings, dict):
        raise bad("settings", "an object")
    numeric = (value["axis"],) if value["axis"] in AXES else ()
    for name in dict.fromkeys(("n", *numeric)):
        v = settings.get(name)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
            raise bad(f"settings.{name}", "a number > 0")
    for name in ("gain", "accuracy", "accuracy_before", "kl_to_ref"):
        v = value.get(name, 0.0 if name == "kl_to_ref" else None)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise bad(name, "a finite number")
    if not isinstance(value.get("algorithm", ""), str):
        raise bad("algorithm", "text")
