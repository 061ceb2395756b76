"""kill -9 a real `labkit` process mid-run (issue #29): start ``python -m labkit ARGV`` with its output in a file,
wait until ``ready(runs)`` says it is part-way, SIGKILL it, and hand back what it wrote. The tests then resume
and compare with an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def kill_when(argv: list[str], ready: Callable[[], bool], log: Path, *, timeout: float = 900,
              env: dict[str, str] | None = None, script: Path | None = None) -> None:
    """Run ``labkit argv`` (or ``python script argv``: a test's own entry point that scripts a model first);
    SIGKILL it as soon as ``ready()`` holds. Fails when the process ends first (then the test would not have
    interrupted anything) or ``timeout`` passes."""
    entry = [str(script)] if script else ["-m", "labkit"]
    root = str(Path(__file__).parents[1])  # so a script can import tests.*
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, *entry, *argv], stdout=out, stderr=subprocess.STDOUT, cwd=root,
                                env={**os.environ, "PYTHONPATH": root, **(env or {})})
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                raise AssertionError(f"labkit {' '.join(argv)} ended (exit {proc.returncode}) before it could be "
                                     f"killed mid-run:\n{log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not ready after {timeout} s:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        assert proc.poll() is None, f"finished before the kill:\n{log.read_text()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.returncode


def lines(path: Path) -> int:
    """Complete lines of an append-only results file (a line torn by the kill does not count)."""
    return sum(line.endswith("}") for line in path.read_text().splitlines()) if path.exists() else 0


def only_run(runs: Path) -> Path | None:
    """The one run folder (it has a config.yaml) under $LABKIT_RUNS-style ``runs``, or None (none yet, or more)."""
    found = [p for p in runs.glob("*/*") if (p / "config.yaml").is_file()]
    return found[0] if len(found) == 1 else None


def kill_after_records(argv: list[str], runs: Path, records: int, log: Path, **options) -> Path:
    """``kill_when`` with $LABKIT_RUNS = ``runs``, once its one run folder holds ``records`` complete records;
    returns that folder."""

    def ready() -> bool:
        run = only_run(runs)
        return run is not None and lines(run / "results.jsonl") >= records

    kill_when(argv, ready, log, env={"LABKIT_RUNS": str(runs)}, **options)
    run = only_run(runs)
    assert run is not None
    return run
