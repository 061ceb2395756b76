"""SimpleCircuitEval problems and generated-circuit records, read unchanged from their upstream files.

- ``simple_circuit_eval/qa.json``: ``[{id, question, golden_answer: {quantity: answer}, solution, is_forward}]``
  with images ``<id>.jpg`` (a few carry a suffix, e.g. ``1-16-3.jpg``; ``answers_parsed.jsonl`` names them).
- generated datasets (``labkit maps generate``): ``circuits.jsonl`` with ``id, spice, questions, stat``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from labkit.core.errors import DataError
from labkit.core.paths import data_dir
from labkit.core.records import jsonl_with_lines, read_text


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
    root = resolve(folder)
    qa = root / "qa.json" if root.is_dir() else root
    try:
        records = json.loads(read_text(qa))
    except json.JSONDecodeError as exc:
        raise DataError(f"not JSON ({exc.msg})", path=str(qa), line=exc.lineno) from None
    images = _image_names(qa.parent)
    problems = []
    for k, rec in enumerate(records):
        for key in ("id", "question", "golden_answer"):
            if key not in rec:
                raise DataError("missing", path=str(qa), field=f"[{k}].{key}")
        if not isinstance(rec["golden_answer"], dict) or not rec["golden_answer"]:
            raise DataError("must be a non-empty mapping quantity -> answer", path=str(qa),
                            field=f"[{k}].golden_answer")
        pid = str(rec["id"])
        candidates = [images.get(pid), qa.parent / f"{pid}.jpg", *sorted(qa.parent.glob(f"{pid}-*.jpg"))]
        image = next((c for c in candidates if c is not None and c.exists()), None)
        problems.append(Problem(pid, rec["question"], {str(q): str(a) for q, a in rec["golden_answer"].items()},
                                image, rec.get("solution", ""), meta={"is_forward": rec.get("is_forward")}))
    return problems


def _image_names(folder: Path) -> dict[str, Path]:
    parsed = folder / "answers_parsed.jsonl"
    if not parsed.exists():
        return {}
    out = {}
    for line in read_text(parsed).splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("image"):
                out[str(row["id"])] = folder / row["image"]
    return out


def load_generated(folder: str | Path) -> list[Problem]:
    """Questions of a dataset written by ``labkit maps generate`` (one Problem per question)."""
    path = resolve(folder) / "circuits.jsonl"
    problems = []
    for _, rec in jsonl_with_lines(path):
        for q, question in enumerate(rec.get("questions", [])):
            problems.append(Problem(f"{rec['id']}#{q}", question["question"], question["answer"],
                                    path.parent / rec["image"] if rec.get("image") else None,
                                    netlist=rec["spice"]))
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
