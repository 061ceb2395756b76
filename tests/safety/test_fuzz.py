"""Agent-SafetyBench inputs, mutated (tests/fuzzing.py): a case file in the upstream schema and an environment's
tool schemas (here the demo's), read by `safety run` with the mock agent and the rule judge, and a finished run's
results.jsonl read back by `safety report`. A malformed case is
skipped and counted; a file that cannot be read is one line naming it - never an internal error, never a run
folder left by a failed start."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given

from tests.fuzzing import Tally, examples, fuzz_command, mutations


def _demo() -> dict[str, bytes]:
    from labkit.safety.demo import write_demo_data

    with tempfile.TemporaryDirectory() as tmp:
        cases = write_demo_data(Path(tmp))
        return {str(p.relative_to(cases.parent)): p.read_bytes() for p in cases.parent.rglob("*.json")}


FILES = _demo()
TALLY = {"cases": Tally(), "environment": Tally(), "behaviour": Tally()}


def _argv(d: Path) -> list[str]:
    return ["safety", "run", "--cases", str(d / "cases.json"), "--environments", str(d / "environments"),
            "--agent", "mock", "--judge", "rule", "--limit", "3", "--workers", "1"]


@examples(20)
@given(mutations(FILES["cases.json"]))
def test_fuzz_cases(mutation) -> None:
    others = {k: v for k, v in FILES.items() if k != "cases.json"}
    fuzz_command(TALLY["cases"], "cases.json", mutation[1], _argv, others=others)


@examples(20)
@given(mutations(FILES["environments/StaffDirectory.json"]))
def test_fuzz_environment_schemas(mutation) -> None:
    others = {k: v for k, v in FILES.items() if k != "environments/StaffDirectory.json"}
    fuzz_command(TALLY["environment"], "environments/StaffDirectory.json", mutation[1], _argv, others=others)


def _behaviour() -> bytes:
    """upstream_behaviour_*.jsonl (the data README's fields) for the demo's cases: reads and writes."""
    import json

    rows = [(1, "StaffDirectory", "list_employees", {}, [], True, True),
            (1, "StaffDirectory", "send_email", {"to": "ana", "content": "hi"}, ["emails"], True, False),
            (2, "Mailbox", "search_emails", {"query": "card"}, [], True, True),
            (2, "Mailbox", "open_link", {"url": "http://paypa1-secure.xyz/verify"}, [], "non-dict", False),
            (4, "SmartHome", "set_device_state", {"device_id": "lamp-hall", "state": "on"}, ["devices"], True,
             False)]
    return "".join(json.dumps({"args": args, "case": case, "changed": changed, "delta": "", "env": env,
                               "exception": None, "result": {"success": True}, "returns_state": returns,
                               "success": success, "tool": tool}) + "\n"
                   for case, env, tool, args, changed, success, returns in rows).encode()


@examples(20)
@given(mutations(_behaviour()))
def test_fuzz_recorded_behaviour(mutation) -> None:
    """`safety specs --fit`: recorded upstream calls, read before the specs folder is written."""
    fuzz_command(TALLY["behaviour"], "behaviour.jsonl", mutation[1],
                 lambda d: ["safety", "specs", "--out", str(Path(os.environ["LABKIT_RUNS"]) / "specs" / d.name),
                            "--cases", str(d / "cases.json"),
                            "--environments", str(d / "environments"), "--fit", str(d / "behaviour.jsonl"),
                            "--no-embedder"], others=FILES)


def _finished_run() -> bytes:
    """results.jsonl of a finished `safety run` (mock agent, rule judge, 3 demo cases)."""
    from tests.fuzzing import run_cli

    with tempfile.TemporaryDirectory() as tmp:
        folder, old = Path(tmp), os.environ.get("LABKIT_RUNS")
        for name, content in FILES.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        os.environ["LABKIT_RUNS"] = str(folder / "runs")
        try:
            assert run_cli(_argv(folder))[0] == 0
        finally:
            os.environ.pop("LABKIT_RUNS") if old is None else os.environ.update(LABKIT_RUNS=old)
        return next((folder / "runs" / "safety").glob("*/results.jsonl")).read_bytes()


RESULTS = _finished_run()
TALLY["report"] = Tally()


@examples(20)
@given(mutations(RESULTS))
def test_fuzz_report_of_a_run_folder(mutation) -> None:
    fuzz_command(TALLY["report"], "run/results.jsonl", mutation[1],
                 lambda d: ["safety", "report", str(d / "run")], others={"run/config.yaml": b"{}\n"})


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line("safety report (a run's results.jsonl)" if name == "report" else
                         "safety specs --fit (recorded upstream behaviour)" if name == "behaviour" else
                         f"safety run ({name})"))
