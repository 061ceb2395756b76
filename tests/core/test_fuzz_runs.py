"""A run folder's append-only results.jsonl, mutated (tests/fuzzing.py): what every `--resume` and every report
verb reads back through ``resume_run(...).latest()``. It is read right, or refused with one DataError naming the
file and line - never another exception (a torn last line, as a kill leaves it, is cut off and read)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given

from labkit.core.runs import resume_run, start_run
from tests.fuzzing import Tally, examples, fuzz_loader, mutations

RECORDS = [{"key": f"item-{i}", "ok": i != 3, **({"value": {"score": i / 4, "tokens": [i, i + 1]}} if i != 3
                                                   else {"error": "RuntimeError: boom"})} for i in range(6)]
RESULTS = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
TALLY = Tally()


@examples(200)  # milliseconds each
@given(mutations(RESULTS))
def test_fuzz_run_records(mutation) -> None:
    latest = fuzz_loader(TALLY, "run/results.jsonl", mutation[1], lambda path: resume_run(path.parent).latest(),
                         others={"run/config.yaml": b"a: 1\n"})
    assert all(isinstance(k, str) and r["key"] == k for k, r in (latest or {}).items())


def test_a_torn_last_line_is_cut_and_the_rest_kept(tmp_path: Path) -> None:
    run = start_run("fuzz", "r", {}, root=tmp_path)
    run.results_path.write_bytes(RESULTS + b'{"key": "item-6", "ok": tr')
    assert sorted(resume_run(run.dir).latest()) == [f"item-{i}" for i in range(6)]


def teardown_module() -> None:
    print(TALLY.line("run folder results.jsonl (resume_run)"))
