import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labkit.core.errors import LabkitError
from labkit.core.runs import resume_run, run_items, start_run

SCRIPT = """
import sys, time
from labkit.core.runs import start_run, resume_run, run_items
root, resume = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
run = resume_run(resume) if resume else start_run("test", "kill", {"n": 40}, root=root)
print(run.dir, flush=True)
def slow(x):
    time.sleep(0.05)
    with open(run.dir / "attempts.log", "a") as fh:
        fh.write(f"{x}\\n")
    return x * 2
run_items(run, [(f"item-{i}", i) for i in range(40)], slow, workers=2, progress=False)
print("finished", flush=True)
"""


def test_killed_run_resumes_with_every_item_exactly_once(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    run_dir = Path(proc.stdout.readline().strip())
    results = run_dir / "results.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not results.exists() or len(results.read_text().splitlines()) < 10):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {json.loads(line)["key"] for line in results.read_text().splitlines() if line.endswith("}")}
    assert 10 <= len(before) < 40
    with open(results, "a") as fh:  # a write torn by the kill
        fh.write('{"key": "item-39", "ok": tr')
    out = subprocess.run([sys.executable, str(script), str(tmp_path), str(run_dir)],
                         capture_output=True, text=True, timeout=120)
    assert "finished" in out.stdout, out.stderr
    records = [json.loads(line) for line in results.read_text().splitlines()]
    keys = [r["key"] for r in records]
    assert sorted(keys) == sorted(f"item-{i}" for i in range(40))  # each exactly once
    assert all(r["ok"] and r["value"] == 2 * int(r["key"].split("-")[1]) for r in records)
    attempts = (run_dir / "attempts.log").read_text().split()
    # finished items were not attempted again after the resume
    assert all(attempts.count(k.split("-")[1]) == 1 for k in before)


def test_failed_items_are_recorded_and_retried_on_resume(tmp_path: Path) -> None:
    run = start_run("test", "fail", {}, root=tmp_path)
    calls = []

    def fn(x):
        calls.append(x)
        if x == 2 and calls.count(2) == 1:
            raise RuntimeError("transient")
        return x

    latest = run_items(run, [(str(i), i) for i in range(4)], fn, workers=1, progress=False)
    assert latest["2"] == {"key": "2", "ok": False, "error": "RuntimeError: transient"}
    latest = run_items(resume_run(run.dir), [(str(i), i) for i in range(4)], fn, workers=1, progress=False)
    assert latest["2"]["ok"] and calls.count(2) == 2 and len(calls) == 5
    assert len(run.records()) == 5  # the error record stays in the append-only log


def test_error_rate_limit(tmp_path: Path) -> None:
    run = start_run("test", "rate", {}, root=tmp_path)
    with pytest.raises(LabkitError, match="3 of 4 items failed"):
        run_items(run, [(str(i), i) for i in range(4)], lambda x: 1 / (x // 3), workers=1,
                  progress=False, max_error_rate=0.5)
    assert len(run.records()) == 4  # all recorded before the error


def test_run_folder_layout(tmp_path: Path) -> None:
    run = start_run("hpss", "my run!", {"budget": 5}, root=tmp_path)
    assert run.dir.parent == tmp_path / "hpss" and run.dir.name.endswith("-my-run")
    assert run.config() == {"budget": 5}
    run.write_metrics({"spearman": 0.5})
    assert json.loads((run.dir / "metrics.json").read_text()) == {"spearman": 0.5}
    with pytest.raises(LabkitError, match="not a run folder"):
        resume_run(tmp_path)


def test_check_fields_names_file_record_and_field() -> None:
    from labkit.core.errors import DataError
    from labkit.core.runs import check_fields

    kinds = {"n": int, "flag": bool, "score": (int, float, type(None))}
    check_fields({"n": 1, "flag": True, "score": None}, kinds, key="k", path="r.jsonl", what="a point")
    for value, field in (({"n": True, "flag": True, "score": 1}, "n"), ({"n": 1, "flag": 1, "score": 1}, "flag"),
                         ({"n": 1, "flag": False, "score": "1"}, "score"), ("x", "n")):
        with pytest.raises(DataError, match=rf"r.jsonl, field '{field}': record 'k' is not a point \(want "):
            check_fields(value, kinds, key="k", path="r.jsonl", what="a point")


def test_run_items_checks_finished_values_before_any_work(tmp_path) -> None:
    """--resume reads finished records back: one of another shape (a hand edit, another tool's file) is a
    DataError naming the results file, the record and the field - before any item runs."""
    from labkit.core.errors import DataError
    from labkit.core.runs import run_items, start_run

    run = start_run("sys", "r", {}, root=tmp_path)
    calls: list[int] = []

    def fn(i):
        calls.append(i)
        return {"score": float(i), "label": f"item {i}"}

    kinds = {"score": (int, float), "label": str}
    run_items(run, [(f"k{i}", i) for i in range(2)], fn, workers=1, kinds=kinds)
    lines = run.results_path.read_text().splitlines()
    run.results_path.write_text(lines[0] + "\n" + lines[1].replace('"score": 1.0', '"score": "1.0"') + "\n")
    with pytest.raises(DataError, match=r"results.jsonl, field 'score': record 'k1'"):
        run_items(run, [(f"k{i}", i) for i in range(3)], fn, workers=1, kinds=kinds)
    assert calls == [0, 1]  # nothing ran for the refused resume
    out = run_items(run, [(f"k{i}", i) for i in range(3)], fn, workers=1)  # without kinds: as before
    assert out["k2"]["value"]["score"] == 2.0


def test_open_run_creates_once_then_reopens_keeping_the_saved_config(tmp_path) -> None:
    from labkit.core.runs import open_run

    run = open_run(tmp_path / "arm", {"seed": 1})
    run.append({"key": "a", "x": 1})
    with open(run.results_path, "a") as fh:
        fh.write('{"key": "b", "x"')  # a kill mid-write
    again = open_run(tmp_path / "arm", {"seed": 2})
    assert again.config() == {"seed": 1}
    assert [r["key"] for r in again.records()] == ["a"]


def test_run_items_each_checks_every_row_of_a_finished_list(tmp_path) -> None:
    from labkit.core.errors import DataError
    from labkit.core.runs import open_run, run_items

    run = open_run(tmp_path / "r", {})
    run_items(run, [("a", 1)], lambda x: [{"U": 1.0}, {"U": 2.0}], workers=1, progress=False)
    assert run_items(run, [("a", 1)], lambda x: 1 / 0, workers=1, progress=False,
                     kinds={"U": float}, each=True)["a"]["value"][1]["U"] == 2.0  # finished: not redone
    for bad in ([{"U": 1.0}, {"U": "x"}], [], {"U": 1.0}):
        run.append({"key": "a", "ok": True, "value": bad})
        with pytest.raises(DataError, match="results.jsonl"):
            run_items(run, [("a", 1)], lambda x: 1 / 0, workers=1, progress=False, kinds={"U": float}, each=True)
