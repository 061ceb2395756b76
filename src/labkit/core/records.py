"""Reading JSON-array and JSON-lines data files while keeping, for every record, the line it starts on,
so a bad record's error can name ``file:line`` (Agent-SafetyBench cases and behaviour records,
CharacterBench files, MAPS datasets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError


def json_array_with_lines(path: Path) -> list[tuple[int, Any]]:
    """Parse a JSON array; return ``(line where the element starts, element)`` pairs."""
    text = Path(path).read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if text[pos:pos + 1] != "[":
        raise DataError("expected a JSON array", path=str(path), line=1)
    pos += 1
    out: list[tuple[int, Any]] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise DataError("the JSON array is not closed", path=str(path), line=text.count("\n") + 1)
        if text[pos] == "]":
            return out
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DataError(f"not JSON ({exc.msg})", path=str(path), line=exc.lineno) from None
        out.append((line, value))


def jsonl_with_lines(path: Path) -> list[tuple[int, Any]]:
    """Parse JSON lines (blank lines skipped); return ``(line number, record)`` pairs."""
    out: list[tuple[int, Any]] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    out.append((lineno, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise DataError(f"not JSON ({exc.msg})", path=str(path), line=lineno) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from None
    return out
