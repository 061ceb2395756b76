"""``labkit ugc`` as a user meets it: outputs, run folders, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from labkit.cli import app
from labkit.core.cli import main_with_errors


def latest_run(kind: str, root: Path) -> Path:
    return sorted((root / "ugc").glob(f"*-{kind}"))[-1]


def test_equilibrium_prints_checks_and_writes_histograms(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path))
    assert main_with_errors(app, ["ugc", "equilibrium", "--beta", "5", "--n", "20", "--m", "100"]) == 0
    out = capsys.readouterr().out
    for word in ("U ", "V ", "active creators 20/20", "iterations", "KKT residual", "exploitability"):
        assert word in out
    run = latest_run("equilibrium", tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["exploitability"] < 1e-6 and metrics["users"] == 100
    assert (run / "creator_frequencies.png").exists() and (run / "user_utilities.png").exists()
    assert np.load(run / "equilibrium.npz")["x"].shape == (20,)


def test_sweep_optimize_frontier_small(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path))
    small = ["--n", "12", "--m", "80"]
    assert main_with_errors(app, ["ugc", "sweep", "--beta", "0,2,10", "--seeds", "3", *small]) == 0
    assert "U increasing in 3/3 environments, V decreasing in 3/3" in capsys.readouterr().out
    assert (latest_run("sweep", tmp_path) / "u_v_vs_beta.png").exists()
    assert main_with_errors(app, ["ugc", "optimize", "--lambda", "4", "--per-user", "--steps", "20", *small]) == 0
    out = capsys.readouterr().out
    assert "per-user beta: W" in out
    run = latest_run("optimize", tmp_path)
    assert (run / "beta_vs_relevance.png").exists() and np.load(run / "betas.npz")["beta"].shape == (80,)
    assert main_with_errors(app, ["ugc", "frontier", "--lambdas", "0,4,16", "--set", "optim.steps=10", *small]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("lambda")]
    assert len(lines) == 3
    volumes = [float(x.split(" V ")[1].split()[0]) for x in lines]
    assert volumes == sorted(volumes)  # more weight on volume, more volume


def test_bad_relevance_file_is_one_line(tmp_path) -> None:
    (tmp_path / "rel.csv").write_text("0.1,0.2\n0.3,nan\n")
    out = subprocess.run([sys.executable, "-m", "labkit", "ugc", "equilibrium", "--env", str(tmp_path / "rel.csv")],
                         capture_output=True, text=True, timeout=120, env={"LABKIT_RUNS": str(tmp_path),
                                                                             "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith("error: ") and "rel.csv:2" in out.stderr and not (tmp_path / "ugc").exists()
    assert "Traceback" not in out.stderr


def test_help_lists_settings_with_defaults() -> None:
    out = subprocess.run([sys.executable, "-m", "labkit", "ugc", "sweep", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    assert "env.n = 50" in out.stdout and "game.matching = 'ppm'" in out.stdout and "paper: 10" in out.stdout


def test_crossed_ranges_are_one_line_before_work(tmp_path, monkeypatch) -> None:
    from tests.fuzzing import run_cli, run_folders

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    for sets, said in ((["env.cost_low=2", "env.cost_high=1"], "'env.cost_low' (2) must not exceed 'env.cost_high'"),
                       (["optim.beta_min=5", "optim.beta_max=1"], "'optim.beta_min' (5) must not exceed"),
                       (["optim.init_beta=30"], "'optim.init_beta' (30) must not exceed 'optim.beta_max' (20)")):
        code, err = run_cli(["ugc", "equilibrium", *[x for s in sets for x in ("--set", s)]])
        assert code == 2 and said in err, err
    assert not run_folders(tmp_path / "runs")

