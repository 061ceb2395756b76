"""A CI-sized sweep end to end: tiny Llama SFT (built once), GRPO with the rule reward, records, resume,
determinism on one machine, the report and fit commands. Mechanics only: whether RL beats SFT in a run this
small depends on the machine's floating-point path (measured in the README), so no test pins it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import app
from labkit.core.cli import main_with_errors
from tests.killing import kill_after_records, lines

pytest.importorskip("trl")

CONFIG = Path(__file__).parents[2] / "configs" / "rlhf" / "tiny.yaml"


def values(folder: Path) -> list[dict]:
    return [json.loads(x)["value"] for x in (folder / "results.jsonl").read_text().splitlines()]


def sweep(capsys, *args: str) -> Path:
    assert main_with_errors(app, ["rlhf", "sweep", *args]) == 0
    return Path(capsys.readouterr().err.split("run: ")[1].split()[0])


@pytest.mark.slow
def test_sweep_records_resume_and_determinism(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    first = sweep(capsys, "--config", str(CONFIG), "--name", "a")
    rows = values(first)
    assert sorted(r["settings"]["n"] for r in rows) == [1, 2, 8] and len({r["sft"] for r in rows}) == 1
    for r in rows:  # every record is whole and self-consistent
        assert r["gain"] == pytest.approx(r["accuracy"] - r["accuracy_before"], abs=1e-12)
        assert r["gain_ci"][0] <= r["gain"] <= r["gain_ci"][1] and 0 <= r["accuracy"] <= 1
        assert r["tokens"] > 0 and r["kl_to_ref"] > 0 and r["steps"] > 0  # RL ran and moved the policy
    assert all(r["algorithm"] == "grpo" for r in rows if r["settings"]["n"] > 1)
    (single,) = [r for r in rows if r["settings"]["n"] == 1]
    assert single["algorithm"] == "reinforce" and "running REINFORCE instead" in single["warnings"][0]
    assert (first / "report.md").exists() and (first / "gain_vs_n.png").exists()
    assert main_with_errors(app, ["rlhf", "report", str(first)]) == 0
    said = capsys.readouterr().out
    assert "paper's finding" in said and "not tested" in said  # n in {2, 8} with GRPO cannot test the curvature
    again = sweep(capsys, "--resume", str(first))
    assert again == first and len(values(first)) == 3  # nothing recomputed
    # the same sweep in a process killed with SIGKILL after its first point, then resumed: the result equals the
    # uninterrupted run's (determinism on one machine), no point repeated, none lost
    second = kill_after_records(["rlhf", "sweep", "--config", str(CONFIG), "--name", "b"], tmp_path / "killed", 1,
                                tmp_path / "b.log")
    assert lines(second / "results.jsonl") < 3
    assert sweep(capsys, "--resume", str(second)) == second
    keep = ("settings", "accuracy_before", "accuracy", "gain", "tokens", "kl_to_ref")
    assert sorted(json.dumps({k: r[k] for k in keep}, sort_keys=True) for r in values(second)) == \
        sorted(json.dumps({k: r[k] for k in keep}, sort_keys=True) for r in rows)


def test_bad_grid_is_one_line_before_a_run_folder(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    code = main_with_errors(app, ["rlhf", "sweep", "--config", str(CONFIG), "--set", 'grid={"temperature": [1]}'])
    err = capsys.readouterr().err
    assert code == 2 and "unknown axis temperature" in err and not (tmp_path / "runs").exists()


def test_a_sweep_whose_points_all_fail_exits_non_zero(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    code = main_with_errors(app, ["rlhf", "sweep", "--set", f"base.policy=hf:{tmp_path / 'none'}", "--set",
                                  "grid={n: [2]}", "--set", "seeds=[0]", "--set", "eval_prompts=5"])
    err = capsys.readouterr().err
    assert code == 2 and "error: every point failed (2)" in err and "no config.json" in err
