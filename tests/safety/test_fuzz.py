"""Agent-SafetyBench inputs, mutated (tests/fuzzing.py): a case file in the upstream schema and an environment's
tool schemas (here the demo's), read by `safety run` with the mock agent and the rule judge. A malformed case is
skipped and counted; a file that cannot be read is one line naming it - never an internal error, never a run
folder left by a failed start."""

from __future__ import annotations

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
TALLY = {"cases": Tally(), "environment": Tally()}


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


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"safety run ({name})"))
