"""`labkit pds solve` on the toy: both modes write a report, the histogram and the metrics."""

from __future__ import annotations

import json
from pathlib import Path

from labkit.cli import app
from labkit.core.cli import main_with_errors


def test_solve_paper_and_exact(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    assert main_with_errors(app, ["pds", "solve", "--set", "toy.steps=60"]) == 0
    err = capsys.readouterr().err
    run = Path(err.split("run: ")[1].split()[0])
    m = json.loads((run / "metrics.json").read_text())
    assert m["auroc"] > 0.85 and m["area_top"] < min(m["area_random"])
    assert (run / "scores_clean_vs_flipped.png").exists()
    assert main_with_errors(app, ["pds", "solve", "--mode", "exact", "--set", "epochs=2", "--set", "toy.steps=60"]) == 0
    out = capsys.readouterr()
    m = json.loads((Path(out.err.split("run: ")[1].split()[0]) / "metrics.json").read_text())
    assert len(m["outer_areas"]) == 3 and m["outer_areas"][2] <= m["outer_areas"][1] <= m["outer_areas"][0]
    assert abs(m["gamma_sum"] - 1) < 1e-9 and "Outer loop areas" in out.out


def test_exact_mode_selects_on_what_the_outer_loop_found(tmp_path, monkeypatch) -> None:
    """Exact mode used to report and select on the first epoch's scores (so it selected exactly as paper mode)."""
    from labkit.core.config import load_config
    from labkit.pds.config import PdsConfig
    from labkit.pds.method import solve_toy

    paper = solve_toy(load_config(PdsConfig, overrides=["toy.steps=60"]))
    exact = solve_toy(load_config(PdsConfig, overrides=["toy.steps=60", "mode=exact", "epochs=3"]))
    assert exact["scores"] != paper["scores"] and "last outer epoch" in exact["score_source"]
    first = solve_toy(load_config(PdsConfig, overrides=["toy.steps=60", "mode=exact", "epochs=1"]))
    assert first["scores"] == paper["scores"]  # one epoch from uniform gamma is the paper's score


def one_line(capsys, argv: list[str]) -> str:
    assert main_with_errors(app, argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_inputs_are_one_line_before_any_work(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    missing = tmp_path / "nope.jsonl"
    assert "nope.jsonl: file not found" in one_line(capsys, ["pds", "solve", "--corpus", str(missing), "--target",
                                                             str(missing)])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    target = tmp_path / "t.txt"
    target.write_text("a clean document.\n")
    assert "empty.jsonl: no documents" in one_line(capsys, ["pds", "solve", "--corpus", str(empty), "--target",
                                                            str(target)])
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"text": "a"}\n\xff\xfe\x00\x01\n')
    assert "bin.jsonl:2: not UTF-8" in one_line(capsys, ["pds", "pretrain", "--corpus", str(binary), "--selected",
                                                         str(binary), "--target", str(target)])
    assert "'r' must be > 0 and <= 1, got 1.5" in one_line(capsys, ["pds", "solve", "--set", "r=1.5"])
    assert "'toy.n' must be >= 2" in one_line(capsys, ["pds", "solve", "--set", "toy.n=0"])
    assert not (tmp_path / "runs").exists()  # nothing made before the input passed
    assert "--documents" in one_line(capsys, ["pds", "make-toy", "--out", str(tmp_path / "toy"), "--documents", "0"])
    assert "--clean-share" in one_line(capsys, ["pds", "make-toy", "--out", str(tmp_path / "toy"), "--clean-share",
                                                "1.5"])
    assert not (tmp_path / "toy").exists()
    for r in ("0", "-0.2", "1.5"):
        err = one_line(capsys, ["pds", "select", "--scores", str(tmp_path), "--out", str(tmp_path / "k.jsonl"),
                                "--r", r])
        assert "--r" in err
    assert "not a score folder" in one_line(capsys, ["pds", "select", "--scores", str(tmp_path), "--out",
                                                     str(tmp_path / "k.jsonl")])
    assert not (tmp_path / "k.jsonl").exists()


def test_seed_study_reports_the_spread_not_chosen_seeds(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    assert main_with_errors(app, ["pds", "solve", "--seeds", "3", "--set", "toy.steps=40"]) == 0
    run = Path(capsys.readouterr().err.split("run: ")[1].split()[0])
    study = json.loads((run / "metrics.json").read_text())["seed_study"]
    for variant in ("plain", "cosine"):
        v = study[variant]
        diff = [t - r for t, r in zip(v["area_top"], v["area_random"], strict=True)]
        assert len(diff) == 3 and v["top_beats_random"] == sum(d < 0 for d in diff)
        assert abs(v["top_minus_random_mean"] - sum(diff) / 3) < 1e-9
    assert "Over 3 data seeds" in (run / "report.md").read_text()
