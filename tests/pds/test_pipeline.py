"""The text-toy pipeline through the CLI (make-toy -> solve -> fit-scorer -> score -> select -> pretrain): the
scorer's held-out Spearman is above 0 and a PDS-chosen 40% beats a random 40% at equal tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import app
from labkit.core.cli import main_with_errors

SMALL = ["--set", "lm.proxy_n=96", "--set", "lm.steps=30", "--set", "lm.target_n=48", "--set", "pretrain.size=xs",
         "--set", "pretrain.steps=150"]


def _run_dir(err: str) -> Path:
    return Path(err.split("run: ")[1].split()[0])


@pytest.mark.slow
def test_text_toy_selection_beats_random(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    toy = tmp_path / "toy"
    assert main_with_errors(app, ["pds", "make-toy", "--out", str(toy), "--documents", "600"]) == 0
    corpus, target = str(toy / "corpus.jsonl"), str(toy / "target.txt")
    capsys.readouterr()
    assert main_with_errors(app, ["pds", "solve", "--corpus", corpus, "--target", target, *SMALL]) == 0
    solve = _run_dir(capsys.readouterr().err)
    assert len((solve / "scores.jsonl").read_text().splitlines()) == 96
    assert main_with_errors(app, ["pds", "fit-scorer", "--scores", str(solve)]) == 0
    fit = json.loads((solve / "scorer" / "fit.json").read_text())
    assert fit["spearman"]["ridge"] > 0, fit
    assert main_with_errors(app, ["pds", "score", "--corpus", corpus, "--scorer", str(solve / "scorer"), "--out",
                                  str(toy / "scores"), "--shard-size", "200"]) == 0
    assert main_with_errors(app, ["pds", "select", "--scores", str(toy / "scores"), "--out",
                                  str(toy / "kept.jsonl")]) == 0
    assert len((toy / "kept.jsonl").read_text().splitlines()) == 240
    capsys.readouterr()
    assert main_with_errors(app, ["pds", "pretrain", "--corpus", corpus, "--selected", str(toy / "kept.jsonl"),
                                  "--target", target, *SMALL]) == 0
    m = json.loads((_run_dir(capsys.readouterr().err) / "metrics.json").read_text())
    sel, rnd = m["runs"]
    assert sel["tokens"][-1] == rnd["tokens"][-1] and m["area_selected"] < m["area_random"], m["speedup"]
