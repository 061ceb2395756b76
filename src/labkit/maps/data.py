"""SimpleCircuitEval problems and generated-circuit records, read unchanged from their upstream files.

- ``simple_circuit_eval/qa.json``: ``[{id, question, golden_answer: {quantity: answer}, solution, is_forward}]``
  with images ``<id>.jpg`` (a few carry a suffix, e.g. ``1-16-3.jpg``; ``answers_parsed.jsonl`` names them).
- generated datasets (``labkit maps generate``): ``circuits.jsonl`` with ``id, spice, questions, stat``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.paths import data_dir
from labkit.core.records import json_array_with_lines, jsonl_with_lines


@dataclass
class Problem:
    id: str
    question: str
    gold: dict[str, str]  # quantity -> answer with unit
    image: Path | None = None
    solution: str = ""
    netlist: str | None = None  # known netlist (hand-transcribed, or a generated circuit's)
    meta: dict[str, object] = field(default_factory=dict)


def resolve(path_or_name: str | Path) -> Path:
    """A folder path, or a dataset name under LABKIT_DATA_DIR/maps (``simple_circuit_eval``)."""
    path = Path(path_or_name)
    if path.exists():
        return path
    shipped = data_dir() / "maps" / str(path_or_name)
    if shipped.exists():
        return shipped
    raise DataError(f"not found (nor under {data_dir() / 'maps'}; set LABKIT_DATA_DIR)", path=str(path))


def load_simple_circuit_eval(folder: str | Path) -> list[Problem]:
    """MAPS's simple_circuit_eval: ``qa.json`` (a JSON array of {id, question, golden_answer{quantity: answer}}),
    images ``<id>.jpg`` or named in ``answers_parsed.jsonl``. Errors name file, line and field."""
    root = resolve(folder)
    qa = root / "qa.json" if root.is_dir() else root
    images = _image_names(qa.parent)
    problems, seen = [], set()
    for line, rec in json_array_with_lines(qa):
        if not isinstance(rec, dict):
            raise DataError("a problem must be a JSON object", path=str(qa), line=line)
        if rec.get("id") in (None, "") or isinstance(rec["id"], (dict, list)):
            raise DataError("missing or not a scalar", path=str(qa), line=line, field="id")
        if not isinstance(rec.get("question"), str):
            raise DataError("missing or not text", path=str(qa), line=line, field="question")
        gold = rec.get("golden_answer")
        if not isinstance(gold, dict) or not gold or any(isinstance(a, (dict, list)) for a in gold.values()):
            raise DataError("must be a non-empty mapping quantity -> answer", path=str(qa), line=line,
                            field="golden_answer")
        pid = str(rec["id"])
        if pid in seen:
            raise DataError(f"id {pid!r} given twice", path=str(qa), line=line, field="id")
        seen.add(pid)
        candidates = [images.get(pid), qa.parent / f"{pid}.jpg", *sorted(qa.parent.glob(f"{pid}-*.jpg"))]
        image = next((c for c in candidates if c is not None and c.exists()), None)
        problems.append(Problem(pid, rec["question"], {str(q): str(a) for q, a in gold.items()},
                                image, str(rec.get("solution") or ""), meta={"is_forward": rec.get("is_forward")}))
    return problems


def _image_names(folder: Path) -> dict[str, Path]:
    parsed = folder / "answers_parsed.jsonl"
    if not parsed.exists():
        return {}
    out = {}
    for line, row in jsonl_with_lines(parsed):
        if not isinstance(row, dict) or row.get("id") is None:
            raise DataError("missing", path=str(parsed), line=line, field="id")
        if row.get("image"):
            if not isinstance(row["image"], str):
                raise DataError("not text", path=str(parsed), line=line, field="image")
            out[str(row["id"])] = folder / row["image"]
    return out


def generated_circuits(folder: str | Path, *fields: str) -> tuple[Path, list[tuple[int, dict[str, Any]]]]:
    """(circuits.jsonl, its (line, record) pairs) of a ``labkit maps generate`` dataset, each record checked for
    a text id and spice, an image name that is text when present, and any other text ``fields`` asked for."""
    path = resolve(folder) / "circuits.jsonl"
    if not path.is_file():
        raise DataError("not a generated dataset (no circuits.jsonl)", path=str(path.parent))
    rows = jsonl_with_lines(path)
    for line, rec in rows:
        for key in ("id", "spice", *fields):
            if not isinstance(rec, dict) or not isinstance(rec.get(key), str):
                raise DataError("missing or not text", path=str(path), line=line, field=key)
        if rec.get("image") is not None and not isinstance(rec["image"], str):
            raise DataError("not text", path=str(path), line=line, field="image")
    return path, rows


def load_generated(folder: str | Path) -> list[Problem]:
    """Questions of a dataset written by ``labkit maps generate`` (one Problem per question); a circuit line of
    another shape is a DataError naming file, line and field."""
    path, rows = generated_circuits(folder)
    problems = []
    for line, rec in rows:
        questions = rec.get("questions", [])
        if not isinstance(questions, list) or not all(
                isinstance(q, dict) and isinstance(q.get("question"), str) and isinstance(q.get("answer"), dict)
                and q["answer"] for q in questions):
            raise DataError("must be a list of {question, answer{quantity: value}}", path=str(path), line=line,
                            field="questions")
        for q, question in enumerate(questions):
            problems.append(Problem(f"{rec['id']}#{q}", question["question"],
                                    {str(k): str(v) for k, v in question["answer"].items()},
                                    path.parent / rec["image"] if rec.get("image") else None,
                                    netlist=rec["spice"]))
    if not problems:
        raise DataError("no questions", path=str(path))
    return problems


def read_predictions(path: Path) -> dict[str, str]:
    """id -> predicted netlist of a perception model's JSON lines ``{"id", "netlist"}``; a record of another
    shape or an id given twice is a DataError naming file and line."""
    out: dict[str, str] = {}
    for line, row in jsonl_with_lines(Path(path)):
        if not isinstance(row, dict) or isinstance(row.get("id"), (dict, list)) or row.get("id") is None:
            raise DataError("needs an 'id' (text or number)", path=str(path), line=line, field="id")
        if not isinstance(row.get("netlist"), str):
            raise DataError("missing or not text", path=str(path), line=line, field="netlist")
        if str(row["id"]) in out:
            raise DataError(f"id {row['id']!r} given twice", path=str(path), line=line, field="id")
        out[str(row["id"])] = row["netlist"]
    return out
