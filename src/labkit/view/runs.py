"""The runs folder as the viewer reads it.

Which folders are runs, their status and metrics, and an index of each run's append-only ``results.jsonl``
(byte offsets plus a small summary per record) that grows with the file, so paging, search and filters over
100,000 items never parse the whole log again.

Nothing here raises on a malformed run: a problem (unreadable config, a torn or non-JSON line, metrics that are not
an object) is listed on the run, and the rest of the run still shows.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labkit.systems import SYSTEMS

RESULTS, CONFIG, METRICS, REPORT = "results.jsonl", "config.yaml", "metrics.json", "report.md"
MARKERS = (RESULTS, CONFIG, METRICS, REPORT)
MAX_DEPTH = 4  # runs/<system>/<run>/<step>/<sub-step>: a demo's per-system runs are found too
FLAGS = ("invalid", "unparsed", "unparseable", "parse_error", "malformed", "undecided", "failed", "error")
STAMP = re.compile(r"^(\d{8})-(\d{6})-")


class NotARun(LookupError):
    """A path that is not a run folder under the viewer's root (or tries to leave it)."""


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` resolved; a path that leaves ``root`` (``..``, an absolute path, a link out) is refused."""
    base = root.resolve()
    path = (base / relative).resolve()
    if path != base and base not in path.parents:
        raise NotARun(f"{relative!r} is outside the runs folder")
    return path


def find_runs(root: Path) -> list[Path]:
    """Every folder under ``root`` (to ``MAX_DEPTH``) holding a run file, sorted by path."""
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            return
        for child in children:
            if any((child / m).is_file() for m in MARKERS):
                found.append(child)
            if depth < MAX_DEPTH:
                walk(child, depth + 1)

    if root.is_dir():
        walk(root, 1)
    return found


def flat_numbers(value: Any, prefix: str = "", depth: int = 0) -> dict[str, float]:
    """Numeric leaves of nested dicts as dotted names (``test.spearman``); booleans and lists left out."""
    out: dict[str, float] = {}
    if isinstance(value, dict) and depth < 3:
        for k, v in value.items():
            name = f"{prefix}{k}"
            if isinstance(v, bool):
                continue
            if isinstance(v, (int, float)):
                out[name] = float(v)
            elif isinstance(v, dict):
                out.update(flat_numbers(v, f"{name}.", depth + 1))
    return out


@dataclass
class Entry:
    """One record of ``results.jsonl``: where it is, and what the status filters need.

    Numbers and the table's summary are read from the line when asked for.
    """

    offset: int
    length: int
    key: str
    ok: bool | None  # None: not a record (a torn or non-JSON line)
    flagged: bool


def summarise(record: Any) -> tuple[str, bool | None, bool]:
    """(key, ok, flagged) of one parsed line."""
    if not isinstance(record, dict):
        return "", None, True
    value = record.get("value")
    ok = record.get("ok")
    ok = ok if isinstance(ok, bool) else None
    flagged = ok is False or (isinstance(value, dict) and any(value.get(f) for f in FLAGS))
    return str(record.get("key", "")), ok, flagged


def summary_text(record: Any) -> str:
    """The items table's one line for a record: its error, or its first numbers (else its first fields)."""
    if not isinstance(record, dict):
        return "not a JSON object"
    value = record.get("value")
    if record.get("ok") is False:
        return str(record.get("error", ""))[:200]
    if isinstance(value, dict):
        text = [f"{k}={v:.4g}" for k, v in list(flat_numbers(value).items())[:4]]
        return ", ".join(text) or ", ".join(list(value)[:6])
    return json.dumps(value)[:200]


@dataclass
class ResultsIndex:
    """The index of one ``results.jsonl``, extended from where it stopped when the file grew."""

    path: Path
    entries: list[Entry] = field(default_factory=list)
    end: int = 0  # bytes indexed (always at a line end)
    problems: list[str] = field(default_factory=list)
    unreadable: int = 0  # lines that are not JSON (the first 20 are in ``problems``)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _numbers: dict[int, dict[str, float]] = field(default_factory=dict, repr=False)

    def refresh(self) -> ResultsIndex:
        """Index the lines appended since the last call (a torn last line waits for its newline)."""
        with self.lock:
            try:
                size = self.path.stat().st_size
            except OSError:
                return self
            if size < self.end:  # rewritten, not appended: start again
                self.entries, self.end, self.problems, self._numbers, self.unreadable = [], 0, [], {}, 0
            if size == self.end:
                return self
            with open(self.path, "rb") as fh:
                fh.seek(self.end)
                data = fh.read(size - self.end)
            last = data.rfind(b"\n")
            if last < 0:
                return self
            offset = self.end
            for raw in data[:last + 1].split(b"\n")[:-1]:
                self._add(offset, raw)
                offset += len(raw) + 1
            self.end = offset
        return self

    def _add(self, offset: int, raw: bytes) -> None:
        line = len(self.entries) + 1
        try:
            record = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            self.unreadable += 1
            if len(self.problems) < 20:
                self.problems.append(f"{self.path.name}:{line}: not JSON ({str(exc)[:80]})")
            record = None
        key, ok, flagged = summarise(record) if record is not None else ("", None, True)
        self.entries.append(Entry(offset, len(raw), key, ok, flagged))

    def record(self, index: int) -> Any:
        """The whole record at ``index`` (0-based), parsed; a line that is not JSON comes back as its text."""
        entry = self.entries[index]
        with open(self.path, "rb") as fh:
            fh.seek(entry.offset)
            raw = fh.read(entry.length)
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            return {"unreadable": raw.decode("utf-8", "replace")}

    def numbers(self, index: int) -> dict[str, float]:
        """The record's numeric fields (dotted names), read once and kept."""
        if index not in self._numbers:
            record = self.record(index)
            value = record.get("value") if isinstance(record, dict) else None
            self._numbers[index] = flat_numbers(value) if isinstance(value, dict) else {}
        return self._numbers[index]

    def summary(self, index: int) -> str:
        """The items table's line for one record."""
        record = self.record(index)
        return "unreadable line" if isinstance(record, dict) and "unreadable" in record else summary_text(record)

    def select(self, *, status: str = "all", query: str = "", metric: str = "", low: float | None = None,
               high: float | None = None) -> list[int]:
        """Indices of the entries that pass the filters.

        Status all / ok / failed / flagged, a text search over the raw line (case-insensitive), a metric range on
        one numeric field.
        """
        if status == "all" and not query and not metric:
            return list(range(len(self.entries)))
        picked = []
        needle = query.lower().encode() if query else b""
        fh = open(self.path, "rb") if needle else None
        try:
            for i, e in enumerate(self.entries):
                if status == "ok" and e.ok is not True or status == "failed" and e.ok is not False:
                    continue
                if status == "flagged" and not e.flagged:
                    continue
                if metric:
                    v = self.numbers(i).get(metric)
                    if v is None or math.isnan(v) or (low is not None and v < low) or (high is not None and v > high):
                        continue
                if fh is not None:
                    fh.seek(e.offset)
                    if needle not in fh.read(e.length).lower():
                        continue
                picked.append(i)
        finally:
            if fh is not None:
                fh.close()
        return picked


_INDEXES: dict[Path, ResultsIndex] = {}
_INDEX_LOCK = threading.Lock()


def results_index(run: Path) -> ResultsIndex:
    """The (shared, refreshed) index of a run's ``results.jsonl``."""
    path = (run / RESULTS).resolve()
    with _INDEX_LOCK:
        index = _INDEXES.setdefault(path, ResultsIndex(path))
    return index.refresh()


def read_metrics(run: Path, problems: list[str]) -> dict[str, Any]:
    """``metrics.json`` as an object ({} and a problem when missing parts are unreadable)."""
    path = run / METRICS
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{METRICS}: {str(exc)[:120]}")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{METRICS}: not a JSON object")
        return {}
    return data


def read_config(run: Path, problems: list[str]) -> str:
    """``config.yaml``'s text (a problem noted when it is not YAML)."""
    path = run / CONFIG
    if not path.exists():
        return ""
    try:
        text = path.read_text(encoding="utf-8")
        yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{CONFIG}: {str(exc).splitlines()[0][:120]}")
        return path.read_bytes().decode("utf-8", "replace")
    return text


def run_summary(root: Path, run: Path, *, with_items: bool = True) -> dict[str, Any]:
    """What the run list shows: system, name, date, status, item counts, headline metrics, problems."""
    rel = run.relative_to(root).as_posix()
    parts = rel.split("/")
    problems: list[str] = []
    metrics = read_metrics(run, problems)
    stamp = STAMP.match(parts[1]) if len(parts) > 1 else None
    date = f"{stamp[1][:4]}-{stamp[1][4:6]}-{stamp[1][6:]} {stamp[2][:2]}:{stamp[2][2:4]}" if stamp else ""
    items = failed = flagged = 0
    if with_items and (run / RESULTS).exists():
        index = results_index(run)
        problems += index.problems
        if index.unreadable > len(index.problems):  # only the first 20 are listed one by one: say how many in all
            problems.append(f"{RESULTS}: {index.unreadable} lines that are not JSON in all")
        items = len(index.entries)
        failed = sum(e.ok is False for e in index.entries)
        flagged = sum(e.flagged for e in index.entries)
    finished = (run / METRICS).exists() or (run / REPORT).exists()
    status = "finished" if finished else ("interrupted" if (run / RESULTS).exists() else "started")
    system = parts[0]
    if system == "demo" and len(parts) > 2 and parts[2] in SYSTEMS:  # a `labkit demo` step: its system's run
        system = parts[2]
    return {"path": rel, "system": system, "name": "/".join(parts[1:]) or parts[0], "date": date,
            "status": status, "items": items, "failed": failed, "flagged": flagged,
            "metrics": dict(list(flat_numbers(metrics).items())[:12]), "problems": problems}
