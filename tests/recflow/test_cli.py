"""`labkit recflow generate` then `validate`: a clean folder passes; a broken one prints its problems and exits
with a one-line error (no traceback). `train` -> `--resume` -> `eval` of a coarse and a rank run as a cascade."""

from __future__ import annotations

from labkit.cli import app
from labkit.core.cli import main_with_errors


def test_generate_then_validate(tmp_path, capsys) -> None:
    out = tmp_path / "funnel"
    assert main_with_errors(app, ["recflow", "generate", "--out", str(out), "--users", "40", "--days", "2",
                                  "--set", "generate.videos=400"]) == 0
    assert main_with_errors(app, ["recflow", "validate", str(out)]) == 0
    assert "matches the RecFlow layout" in capsys.readouterr().out
    (out / "others" / "id_cnt.pkl").unlink()
    assert main_with_errors(app, ["recflow", "validate", str(out)]) != 0
    captured = capsys.readouterr()
    assert "id_cnt.pkl: missing" in captured.out and "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]  # (a cache summary may follow)
    assert errors == [f"error: 1 problem(s) in {out}; the first: {out / 'others' / 'id_cnt.pkl'}: missing"]


def _run_dir(err: str):
    from pathlib import Path

    return Path(err.split("run: ")[1].split()[0])


def test_train_resume_and_cascade_eval(tmp_path, capsys, monkeypatch) -> None:
    import json

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    data = tmp_path / "funnel"
    assert main_with_errors(app, ["recflow", "generate", "--out", str(data), "--users", "60", "--days", "3",
                                  "--set", "generate.videos=600"]) == 0
    runs = []
    for task in ("coarse", "rank"):
        assert main_with_errors(app, ["recflow", "train", "--data", str(data), "--task", task]) == 0
        runs.append(_run_dir(capsys.readouterr().err))
    before = (runs[0] / "checkpoint.pt").read_bytes()
    assert main_with_errors(app, ["recflow", "train", "--data", str(data), "--resume", str(runs[0])]) == 0
    assert "loss" not in capsys.readouterr().err.replace("logloss", "")  # every day was done: nothing retrained
    assert (runs[0] / "checkpoint.pt").read_bytes() == before
    assert main_with_errors(app, ["recflow", "eval", str(runs[0]), str(runs[1])]) == 0  # data: as trained
    captured = capsys.readouterr()
    assert "Cascade Recall@k@m on the coarse test table" in captured.out and "without one skipped" in captured.out
    metrics = json.loads((_run_dir(captured.err) / "metrics.json").read_text())
    c = metrics["cascade"]
    assert c["m1"] == 60 and c["candidates_per_request"] == 240 and c["requests"] > 0
    assert 0 <= c["cascade"]["recall@10@10"] <= c["cascade"]["recall@10@20"] <= 1
    assert main_with_errors(app, ["recflow", "eval", str(tmp_path), "--data", str(data)]) != 0
    assert "not a trained RecFlow run" in capsys.readouterr().err


def _generate(tmp_path):
    data = tmp_path / "funnel"
    assert main_with_errors(app, ["recflow", "generate", "--out", str(data), "--users", "60", "--days", "4",
                                  "--set", "generate.videos=600"]) == 0
    return data


def _whole_and_killed(argv, tmp_path, capsys, monkeypatch):
    """(an uninterrupted run of ``labkit argv``, the same run in a process killed with SIGKILL after its first
    record)."""
    from tests.killing import kill_after_records

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "whole"))
    assert main_with_errors(app, argv) == 0
    whole = _run_dir(capsys.readouterr().err)
    return whole, kill_after_records(argv, tmp_path / "killed", 1, tmp_path / "killed.log")


def test_train_killed_with_sigkill_resumes_to_the_uninterrupted_model(tmp_path, capsys, monkeypatch) -> None:
    import json

    import torch

    from tests.killing import lines

    argv = ["recflow", "train", "--data", str(_generate(tmp_path)), "--task", "coarse"]
    whole, killed = _whole_and_killed(argv, tmp_path, capsys, monkeypatch)  # killed after its first day
    assert lines(killed / "results.jsonl") < 3 and not (killed / "metrics.json").exists()
    assert main_with_errors(app, ["recflow", "train", "--resume", str(killed)]) == 0
    days = [json.loads(x)["key"] for x in (killed / "results.jsonl").read_text().splitlines() if x.endswith("}")]
    assert sorted(days) == sorted(set(days)) and len(days) == 3  # each training day once, none lost
    a, b = (torch.load(r / "checkpoint.pt", map_location="cpu")["model"] for r in (whole, killed))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((killed / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())


def test_experiment_killed_with_sigkill_repeats_no_finished_arm(tmp_path, capsys, monkeypatch) -> None:
    import json

    argv = ["recflow", "experiment", "distribution-shift", "--data", str(_generate(tmp_path)), "--set",
            "experiment.seeds=1", "--set", "experiment.strategies=[bce,sampling]", "--set", "train.task=coarse"]
    whole, killed = _whole_and_killed(argv, tmp_path, capsys, monkeypatch)  # killed after its first arm
    first = (killed / "bce-seed0" / "checkpoint.pt").stat().st_mtime_ns
    assert main_with_errors(app, ["recflow", "experiment", "distribution-shift", "--resume", str(killed)]) == 0
    assert (killed / "bce-seed0" / "checkpoint.pt").stat().st_mtime_ns == first  # the finished arm not retrained
    keys = [json.loads(x)["key"] for x in (killed / "results.jsonl").read_text().splitlines() if x.endswith("}")]
    assert keys == ["bce-0", "sampling-0"]
    assert json.loads((killed / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())
