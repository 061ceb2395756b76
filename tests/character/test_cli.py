"""``labkit character generate | judge | report | metaeval | train-judge`` end to end with scripted models;
resume repeats nothing; failures are counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import app
from labkit.core.cli import main_with_errors


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main_with_errors(app, args)
    out = capsys.readouterr()
    return code, out.out, "".join(ln for ln in out.err.splitlines(True) if not ln.startswith("cache: "))


def run_dir(err: str) -> Path:
    return Path(err.split("run: ")[1].split()[0])


def test_metaeval_pred_field(cb_dir: Path, capsys) -> None:
    code, out, err = run_cli(["character", "metaeval", "--pred-field", "pred_zh", "--data", str(cb_dir),
                              "--set", "n_boot=50"], capsys)
    assert code == 0, err
    assert "| attribute_consistency_bot | zh | 250 | 0.825" in out
    metrics = json.loads((run_dir(err) / "metrics.json").read_text())
    assert round(metrics["agreement"]["human_likeness/zh"]["kendall"], 3) == 0.419
    code, _, err = run_cli(["character", "metaeval", "--pred-field", "pred_xx", "--data", str(cb_dir)], capsys)
    assert code == 2 and "no field 'pred_xx'" in err


def test_generate_then_judge_then_report(demo_dir: Path, capsys, monkeypatch) -> None:
    from labkit.core.models import registry
    from labkit.core.models.mock import MockChatModel

    def fake_load(spec, **kw):
        if spec == "mock:writer":
            return MockChatModel(lambda conv, s, c: "not json" if "Pip" in conv[-1]["content"] else
                                 '{"response": "(nods) Understood."}', model_id="mock:writer")
        return MockChatModel(lambda conv, s, c: "3" if "Understood" in conv[-1]["content"] else "maybe",
                             model_id="mock:judge")

    monkeypatch.setattr(registry, "load_model", fake_load)
    monkeypatch.setattr("labkit.character.method.load_model", fake_load)
    code, out, err = run_cli(["character", "generate", "--model", "mock:writer", "--lang", "en", "--data",
                              str(demo_dir), "--dims", "human_likeness"], capsys)
    assert code == 0, err
    gen = run_dir(err)
    assert "9 of 12 replies valid" in out  # Pip's three records never give JSON: recorded as failures
    failures = [json.loads(x) for x in (gen / "results.jsonl").read_text().splitlines()]
    assert sum(not r["ok"] for r in failures) == 3 and "no valid reply (json) after 3 attempts" in \
        next(r["error"] for r in failures if not r["ok"])

    code, out, err = run_cli(["character", "judge", "--judge", "mock:judge", "--responses", str(gen), "--mode",
                              "generate", "--lang", "en", "--data", str(demo_dir), "--dims", "human_likeness"], capsys)
    assert code == 0, err
    judged = run_dir(err)
    assert "9 records judged; 0 without a valid score" in out
    assert "3 record(s) have no reply" in err
    metrics = json.loads((judged / "metrics.json").read_text())
    assert metrics["leaderboard"]["mock:writer"]["files"]["human_likeness"] == pytest.approx(3 / 5 * 5)
    assert (judged / "radar.png").exists()

    # the records' own replies: the judge answers "maybe" -> invalid, counted, never defaulted
    code, out, err = run_cli(["character", "judge", "--judge", "mock:judge", "--mode", "generate", "--lang", "en",
                              "--data", str(demo_dir), "--dims", "human_likeness"], capsys)
    assert code == 0 and "12 records judged; 12 without a valid score" in out

    lines = (judged / "results.jsonl").read_text().splitlines()
    (judged / "results.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])  # torn by a kill
    code, out, err = run_cli(["character", "judge", "--resume", str(judged)], capsys)  # the run's own source
    assert code == 0, err
    keys = [json.loads(x)["key"] for x in (judged / "results.jsonl").read_text().splitlines()]
    assert len(keys) == 9 and len(set(keys)) == 9
    code, out, _ = run_cli(["character", "report", str(judged)], capsys)
    assert code == 0 and "mock:writer" in out


def test_bad_input_is_one_line(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(["character", "judge", "--data", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "no CharacterBench test file found" in err
    code, _, err = run_cli(["character", "metaeval", "--data", str(tmp_path)], capsys)
    assert code == 2 and "exactly one of --pred-field F or --judge SPEC" in err


def test_metaeval_counts_every_exclusion_and_checks_before_the_run_folder(demo_dir: Path, tmp_path: Path,
                                                                          capsys) -> None:
    import os
    import shutil

    data = tmp_path / "cb"
    shutil.copytree(demo_dir, data)
    path = data / "human_likeness_test.json"
    records = json.loads(path.read_text())
    for r in records:
        r["pred_x"] = 2
    del records[0]["annotation_score"]  # no gold: left out and counted
    records[1]["dialogue"] = "broken"  # malformed: left out and counted
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1))
    for other in data.glob("*.json"):
        if other != path:
            other.unlink()
    runs = Path(os.environ["LABKIT_RUNS"])
    code, out, err = run_cli(["character", "metaeval", "--pred-field", "pred_x", "--data", str(data),
                              "--set", "n_boot=0"], capsys)
    assert code == 0, err
    assert "2 record(s) left out; first:" in err and "human_likeness_test.json:" in err
    metrics = json.loads((run_dir(err) / "metrics.json").read_text())
    assert metrics["left_out"] == 2 and metrics["records"] == len(records) - 2
    records[2].pop("pred_x")  # a record without the column: stops, naming file and line
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1))
    before = sorted(runs.rglob("config.yaml"))
    code, _, err = run_cli(["character", "metaeval", "--pred-field", "pred_x", "--data", str(data)], capsys)
    assert code == 2 and f"{path}:" in err and "field 'pred_x'" in err and "no field 'pred_x'" in err
    path.write_text(json.dumps(records)[:500])  # truncated file
    code, _, err = run_cli(["character", "metaeval", "--pred-field", "pred_x", "--data", str(data)], capsys)
    assert code == 2 and str(path) in err and err.count("\n") == 1
    assert sorted(runs.rglob("config.yaml")) == before  # no run folder for input that fails its check


def test_binary_input_is_one_line_naming_the_file(tmp_path: Path, capsys) -> None:
    data = tmp_path / "cb"
    data.mkdir()
    (data / "human_likeness_test.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 20)
    code, _, err = run_cli(["character", "metaeval", "--pred-field", "pred_zh", "--data", str(data)], capsys)
    assert code == 2 and err.count("\n") == 1 and "human_likeness_test.json" in err and "not UTF-8" in err
    bad = tmp_path / "cases.json"
    bad.write_bytes(b"\xff\xfe\x00binary")
    (tmp_path / "environments").mkdir()
    code, _, err = run_cli(["safety", "run", "--agent", "mock", "--cases", str(bad)], capsys)
    assert code == 2 and err.count("\n") == 1 and str(bad) in err and "not UTF-8" in err
