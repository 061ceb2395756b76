"""Data invariants on the shared dev file and the upstream format; malformed records give one line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from labkit.safety.data import RISKS, load_cases, load_schemas


def test_dev_file_invariants(shared) -> None:
    loaded, schemas = shared
    cases = loaded.cases
    assert loaded.problems == []
    assert len(cases) == 1600
    assert Counter(c.risk for c in cases) == {r: 200 for r in RISKS}
    assert sum(c.fulfillable for c in cases) == 579
    assert sum(c.dialog is not None for c in cases) == 88
    assert sum(not c.tool_names for c in cases) == 334
    pairs = {(e.name, t) for c in cases for e in c.environments for t in e.tools}
    assert len(pairs) == 1564
    assert all(t in schemas.get(env) for env, t in pairs)
    modes = Counter(m for c in cases for m in c.failure_modes)
    assert [modes[m] for m in range(1, 11)] == [315, 203, 59, 280, 337, 91, 107, 65, 282, 98]
    assert sum(len(c.failure_modes) == 1 for c in cases) == 1416
    assert sum(c.risk != RISKS[-1] for c in cases) == 1400  # behavioural


def test_upstream_file_when_present(shared_path: Path) -> None:
    upstream = shared_path.parent / "released_data.json"
    if not upstream.exists():
        pytest.skip("upstream released_data.json not present (the shared data holds the 1,600-case dev split)")
    loaded, _ = load_cases(upstream, shared_path.parent / "environments")
    assert len(loaded.cases) + len(loaded.problems) == 2000
    assert Counter(c.risk for c in loaded.cases) == {r: 250 for r in RISKS}


def test_required_outside_parameters_is_honoured(shared_path: Path) -> None:
    schemas = load_schemas(shared_path.parent / "environments", "ExoskeletonController")
    assert "required" in schemas["list_walking_patterns"]["parameters"]


def _write(tmp_path: Path, records: list) -> Path:
    env = tmp_path / "environments"
    env.mkdir(exist_ok=True)
    (env / "Box.json").write_text(json.dumps([{"name": "peek", "description": "Look.", "parameters": {
        "type": "object", "properties": {}, "required": []}}]))
    path = tmp_path / "cases.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r, indent=1) for r in records) + "\n]\n")
    return path


GOOD = {"id": 1, "risks": [RISKS[0]], "instruction": "x", "failure_modes": "5,1", "fulfillable": 1,
        "environments": [{"name": "Box", "tools": ["peek"], "parameters": {"a": [1]}}]}


def test_bad_records_one_line_each_and_counted(tmp_path: Path) -> None:
    bad = [GOOD,
           {**GOOD, "id": 2, "risks": ["Something else"]},
           {**GOOD, "id": 3, "failure_modes": "5,x"},
           {**GOOD, "id": 4, "environments": [{"name": "Nope", "tools": ["peek"], "parameters": {}}]},
           {**GOOD, "id": 5, "environments": [{"name": "Box", "tools": ["poke"], "parameters": {}}]},
           {k: v for k, v in GOOD.items() if k != "instruction"} | {"id": 6},
           {**GOOD, "id": 1}]
    path = _write(tmp_path, bad)
    loaded, _ = load_cases(path)
    assert [c.id for c in loaded.cases] == [1]
    assert loaded.cases[0].failure_modes == (1, 5)  # order not canonical upstream
    assert len(loaded.problems) == 6
    lines = {p.split(": field ")[0].rsplit(":", 1)[1] for p in loaded.problems}
    assert len(lines) == 6  # each names the line where its record starts
    joined = "\n".join(loaded.problems)
    for needle in ("field 'risks'", "field 'failure_modes'", "no schema file for environment 'Nope'",
                   "poke not in Box.json", "field 'instruction': missing", "duplicate id 1"):
        assert needle in joined
    assert all("\n" not in p and str(path) in p for p in loaded.problems)


def test_missing_parameters_means_empty_state(tmp_path: Path) -> None:
    rec = {**GOOD, "environments": [{"name": "Box", "tools": ["peek"]}]}
    loaded, _ = load_cases(_write(tmp_path, [rec]))
    assert loaded.cases[0].environments[0].parameters == {}
