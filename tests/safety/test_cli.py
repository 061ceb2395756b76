"""``labkit safety run | report | show | specs`` end to end with scripted models; resume repeats
nothing; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import app
from labkit.core.cli import main_with_errors


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main_with_errors(app, args)
    out = capsys.readouterr()
    err = "".join(line for line in out.err.splitlines(keepends=True) if not line.startswith("cache: "))
    return code, out.out, err


@pytest.fixture()
def cases(tmp_path: Path) -> Path:
    from labkit.safety.demo import write_demo_data

    return write_demo_data(tmp_path / "data")


def test_run_report_show(cases: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(["safety", "run", "--agent", "mock", "--judge", "rule", "--cases", str(cases),
                              "--name", "t", "--set", "engine.embedder=none"], capsys)
    assert code == 0, err
    run_dir = Path(err.split("run: ")[1].split()[0])
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert len(records) == 8 and all(r["ok"] for r in records)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    overall = metrics["judges"]["rule"]["overall"]
    # the echo agent repeats the instruction: no refusal, no tool call -> every verdict undecided
    assert (overall["episodes"], overall["invalid"], overall["safe"] + overall["unsafe"]) == (8, 8, 0)
    assert (run_dir / "safety_by_risk.png").exists() and "By failure mode" in (run_dir / "report.md").read_text()
    assert "[rule] no valid verdicts (8 invalid" in out

    code, out, _ = run_cli(["safety", "show", str(run_dir), "6"], capsys)
    assert code == 0
    assert "[call] list_files({})" in out and "verdict [rule]: INVALID" in out

    code, _, err = run_cli(["safety", "show", str(run_dir), "99"], capsys)
    assert code == 2 and "no episode for case 99" in err

    code, out, _ = run_cli(["safety", "report", str(run_dir)], capsys)
    assert code == 0 and "report:" in out


def test_resume_after_torn_line_repeats_nothing(cases: Path, capsys) -> None:
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(cases), "--limit", "4",
                            "--set", "engine.embedder=none"], capsys)
    run_dir = Path(err.split("run: ")[1].split()[0])
    results = run_dir / "results.jsonl"
    lines = results.read_text().splitlines()
    assert len(lines) == 4
    results.write_text("\n".join(lines[:3]) + "\n" + lines[3][:25])  # killed mid-write
    code, _, err = run_cli(["safety", "run", "--resume", str(run_dir)], capsys)
    assert code == 0, err
    keys = [json.loads(line)["key"] for line in results.read_text().splitlines()]
    assert len(keys) == 4 and len(set(keys)) == 4  # only the torn episode ran again


def test_limit_is_round_robin_over_risks(cases: Path, capsys) -> None:
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(cases), "--limit", "3",
                            "--risk", "Lead to physical harm", "--risk", "Compromise availability",
                            "--set", "engine.embedder=none"], capsys)
    run_dir = Path(err.split("run: ")[1].split()[0])
    keys = sorted(json.loads(line)["key"] for line in (run_dir / "results.jsonl").read_text().splitlines())
    assert keys == ["4#0", "6#0"]


def test_bad_input_is_one_line(tmp_path: Path, cases: Path, capsys) -> None:
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(tmp_path / "none.json")], capsys)
    assert code == 2 and err.count("\n") == 1 and "case file not found" in err
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": 1, "risks": ["x"]')
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(bad)], capsys)
    assert code == 2 and err.count("\n") == 1 and str(bad) in err
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(cases), "--risk", "Nope"], capsys)
    assert code == 2 and "unknown risk 'Nope'" in err
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(cases), "--defence", "maximal"],
                           capsys)
    assert code == 2 and "defence" in err


def test_malformed_cases_are_counted_and_run_goes_on(tmp_path: Path, cases: Path, capsys) -> None:
    data = json.loads(cases.read_text())
    data[1]["failure_modes"] = "eleven"
    cases.write_text(json.dumps(data, indent=1))
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(cases),
                            "--set", "engine.embedder=none"], capsys)
    assert code == 0
    assert "1 malformed case(s) skipped" in err and "field 'failure_modes'" in err
    run_dir = Path(err.split("run: ")[1].split()[0])
    assert len((run_dir / "results.jsonl").read_text().splitlines()) == 7
    assert "1 malformed cases skipped at load" in (run_dir / "report.md").read_text()


def test_specs_drafts_load_back(tmp_path: Path, cases: Path, capsys) -> None:
    from labkit.safety.engine import load_specs

    code, out, _ = run_cli(["safety", "specs", "--out", str(tmp_path / "specs"), "--cases", str(cases),
                            "--no-embedder"], capsys)
    assert code == 0 and "6 environment spec(s)" in out
    specs = load_specs(tmp_path / "specs")
    assert specs["SmartHome"]["set_device_state"].op == "update"
    assert specs["Mailbox"]["search_emails"].op == "filter"


def test_specs_and_selection_report_skipped_cases(tmp_path: Path, cases: Path, capsys) -> None:
    data = json.loads(cases.read_text())
    data[0]["environments"][0]["name"] = "NoSuchEnv"
    cases.write_text(json.dumps(data, indent=1))
    code, out, err = run_cli(["safety", "specs", "--out", str(tmp_path / "specs"), "--cases", str(cases),
                              "--no-embedder"], capsys)
    assert code == 0 and "1 malformed case(s) skipped" in err and "NoSuchEnv" in err
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(cases),
                            "--set", f"ids=[{data[0]['id']}]"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "no case matches" in err and "1 case(s) were skipped as malformed" in err and "NoSuchEnv" in err
