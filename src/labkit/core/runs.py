"""Run folders: ``runs/<system>/<timestamp>-<name>/`` with everything a run produced.

- ``config.yaml``: the resolved config;
- ``results.jsonl``: append-only, one record per finished item, flushed and fsynced per item;
- ``metrics.json`` and ``report.md`` (+ PNG plots) written at the end.

``resume_run`` reopens a folder after Ctrl-C or kill -9: a torn last line is cut off, finished
items are skipped, failed ones are tried again (their error records stay in the log).
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labkit.core.errors import DataError, LabkitError
from labkit.core.parallel import Outcome, parallel_map
from labkit.core.paths import runs_dir
from labkit.core.records import jsonl_with_lines

RESULTS, CONFIG, METRICS, REPORT = "results.jsonl", "config.yaml", "metrics.json", "report.md"


@dataclass
class Run:
    """An open run folder."""

    dir: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def results_path(self) -> Path:
        """The run's ``results.jsonl``."""
        return self.dir / RESULTS

    def config(self) -> dict[str, Any]:
        """The run's saved ``config.yaml``."""
        return yaml.safe_load((self.dir / CONFIG).read_text()) or {}

    def append(self, record: dict[str, Any]) -> None:
        """Append one record durably (flush + fsync), safe across threads."""
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock, open(self.results_path, "a") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def records(self) -> list[dict[str, Any]]:
        """Every record in the log, in order.

        A line that is not a JSON object with a text ``key`` (when it has
        one) is a DataError naming the file and line.
        """
        if not self.results_path.exists():
            return []
        out = []
        for line, rec in jsonl_with_lines(self.results_path):
            if not isinstance(rec, dict) or not isinstance(rec.get("key", ""), str):
                raise DataError("not a run record (a JSON object with a text 'key')", path=str(self.results_path),
                                line=line)
            out.append(rec)
        return out

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of each item key."""
        return {r["key"]: r for r in self.records() if "key" in r}

    def write_metrics(self, metrics: dict[str, Any]) -> Path:
        """Write ``metrics.json``."""
        path = self.dir / METRICS
        path.write_text(json.dumps(metrics, indent=2, default=str) + "\n")
        return path

    def write_report(self, markdown: str) -> Path:
        """Write ``report.md``."""
        path = self.dir / REPORT
        path.write_text(markdown)
        return path


def check_fields(value: Any, kinds: dict[str, type | tuple[type, ...]], *, key: str, path: str, what: str) -> None:
    """Check a finished record's fields against their kinds.

    For report verbs reading a run folder from elsewhere: a DataError naming the results file, the record
    ``key`` and the first field of ``value`` that is not of its kind (a bool is not a number unless asked for).
    """
    for name, kind in kinds.items():
        got = value.get(name) if isinstance(value, dict) else None
        kinds_ = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(got, kinds_) or (isinstance(got, bool) and bool not in kinds_):
            want = " or ".join("null" if k is type(None) else k.__name__ for k in kinds_)
            raise DataError(f"record {key!r} is not {what} (want {want})", path=path, field=name)


def slug(name: str) -> str:
    """``name`` made safe for a folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"


def start_run(system: str, name: str, config: dict[str, Any], root: str | Path | None = None) -> Run:
    """Create ``<root>/<system>/<timestamp>-<name>/`` and save the resolved config."""
    base = Path(root) if root else runs_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = base / system / f"{stamp}-{slug(name)}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = base / system / f"{stamp}-{slug(name)}-{suffix}"
    path.mkdir(parents=True)
    (path / CONFIG).write_text(yaml.safe_dump(config, sort_keys=False))
    return Run(path)


def open_run(folder: str | Path, config: dict[str, Any]) -> Run:
    """A run in a folder the caller names, created once and reopened after.

    A run in a folder the caller names (a demo's step, an ablation arm): created with its resolved config the
    first time, reopened as ``resume_run`` does (its saved config kept) when it exists.
    """
    path = Path(folder)
    if (path / CONFIG).exists():
        return resume_run(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / CONFIG).write_text(yaml.safe_dump(config, sort_keys=False))
    return Run(path)


def resume_run(run_dir: str | Path) -> Run:
    """Reopen a run folder; cut a torn last line left by a kill mid-write."""
    path = Path(run_dir)
    if not (path / CONFIG).exists():
        raise LabkitError(f"{path}: not a run folder (no {CONFIG})")
    results = path / RESULTS
    if results.exists():
        data = results.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(results, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)
    return Run(path)


def _apply_to_item(fn: Callable[[Any], Any], pair: tuple[str, Any]) -> Any:
    """``fn(item)`` for a ``(key, item)`` pair; module-level so process and Ray backends can pickle it."""
    return fn(pair[1])


def run_items(run: Run, items: Iterable[tuple[str, Any]], fn: Callable[[Any], Any], *,
              workers: int = 4, desc: str | None = None, backend: str | None = None,
              max_error_rate: float = 1.0, progress: bool | None = None,
              kinds: dict[str, type | tuple[type, ...]] | None = None, each: bool = False
              ) -> dict[str, dict[str, Any]]:
    """Apply ``fn`` to each ``(key, item)`` not yet done in ``run``; return key -> last record.

    A record is ``{"key", "ok": true, "value"}`` or ``{"key", "ok": false, "error"}``. If more
    than ``max_error_rate`` of the items attempted now fail, a LabkitError says so after all ran.
    ``kinds`` (field -> type) is what the caller reads from a finished value: on ``--resume`` every finished
    record of these items is checked against it before any work (a DataError names the file, record and field);
    with ``each`` a value is a non-empty list and every element is checked.
    """
    items = list(items)
    keys = [k for k, _ in items]
    if len(set(keys)) != len(keys):
        raise LabkitError("run_items: item keys must be unique")
    latest = run.latest()
    if kinds:
        for key in keys:
            if not latest.get(key, {}).get("ok"):
                continue
            value, what = latest[key].get("value"), "a finished item as this command writes it"
            if each and not (isinstance(value, list) and value):
                raise DataError(f"record {key!r} is not {what} (want a non-empty list)", path=str(run.results_path),
                                field="value")
            parts = value if isinstance(value, list) and each else [value]
            for i, part in enumerate(parts):
                check_fields(part, kinds, key=f"{key}[{i}]" if each else key, path=str(run.results_path), what=what)
    todo = [(k, it) for k, it in items if not latest.get(k, {}).get("ok")]

    def record(out: Outcome) -> None:
        key = out.item[0]
        rec = {"key": key, "ok": out.ok, **({"value": out.value} if out.ok else {"error": out.error})}
        run.append(rec)
        latest[key] = rec

    outcomes = parallel_map(functools.partial(_apply_to_item, fn), todo, workers=workers, desc=desc,
                            backend=backend, on_result=record, progress=progress)
    failed = sum(not o.ok for o in outcomes)
    if outcomes and failed / len(outcomes) > max_error_rate:
        raise LabkitError(f"{failed} of {len(outcomes)} items failed (over the allowed "
                          f"{max_error_rate:.0%}); see {run.results_path}")
    return {k: latest[k] for k in keys}
