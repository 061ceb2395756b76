"""SPaR's inputs in their upstream formats: IFEval's ``input_data.jsonl`` (``key``, ``prompt``,
``instruction_id_list``, ``kwargs``) and response files (``{"prompt", "response"}`` JSON lines, the format
IFEval's own evaluator reads). A malformed record is a one-line DataError naming file, line and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.paths import data_dir
from labkit.core.records import jsonl_with_lines


@dataclass(frozen=True)
class IfevalItem:
    key: int
    prompt: str
    instruction_ids: tuple[str, ...]
    kwargs: tuple[dict[str, Any], ...]


def ifeval_path() -> Path:
    return data_dir() / "spar" / "ifeval" / "input_data.jsonl"


def load_ifeval(path: Path | None = None) -> list[IfevalItem]:
    """IFEval's prompts; each instruction id needs its kwargs object (same list lengths)."""
    path = Path(path or ifeval_path())
    if not path.exists():
        raise DataError(f"IFEval prompts not found (set LABKIT_DATA_DIR or pass --data): {path}")
    items = []
    for n, rec in jsonl_with_lines(path):
        for name, kind in (("key", int), ("prompt", str), ("instruction_id_list", list), ("kwargs", list)):
            if not isinstance(rec, dict) or not isinstance(rec.get(name), kind):
                raise DataError(f"missing or not a {kind.__name__}", path=str(path), line=n, field=name)
        if len(rec["instruction_id_list"]) != len(rec["kwargs"]):
            raise DataError(f"{len(rec['instruction_id_list'])} instructions but {len(rec['kwargs'])} kwargs objects",
                            path=str(path), line=n, field="kwargs")
        if not all(isinstance(k, dict) for k in rec["kwargs"]):
            raise DataError("every kwargs entry must be an object", path=str(path), line=n, field="kwargs")
        items.append(IfevalItem(rec["key"], rec["prompt"], tuple(rec["instruction_id_list"]),
                                tuple(rec["kwargs"])))
    if not items:
        raise DataError("no prompts", path=str(path))
    return items


def read_responses(path: Path) -> list[tuple[int, str, str]]:
    """(line, prompt, response) per record of a response file."""
    out = []
    for n, rec in jsonl_with_lines(Path(path)):
        for name in ("prompt", "response"):
            if not isinstance(rec, dict) or not isinstance(rec.get(name), str):
                raise DataError("missing or not a string", path=str(path), line=n, field=name)
        out.append((n, rec["prompt"], rec["response"]))
    return out
