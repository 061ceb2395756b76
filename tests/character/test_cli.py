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
