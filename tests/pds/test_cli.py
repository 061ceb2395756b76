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
