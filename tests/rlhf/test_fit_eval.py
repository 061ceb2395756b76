"""RLHF sweep analysis: the curve fitter recovers known parameters and the plateau; RM metrics on
hand-computed fixtures; the GRPO edge case."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.core.errors import ConfigError
from labkit.rlhf.eval import best_of_n_accuracy, pairwise_accuracy
from labkit.rlhf.fit import fit_curve, gain_per_doubling, plateau, plateau_text
from labkit.rlhf.rl import algorithm_for

GRID = np.array([1, 2, 4, 8, 16, 32, 64, 128], dtype=float)


def noisy(curve, seeds: int = 3, sd: float = 0.002, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.repeat(GRID, seeds)
    return x, curve(x) + rng.normal(0, sd, len(x))


def test_log_fit_recovers_parameters_within_5_percent() -> None:
    x, y = noisy(lambda v: 0.30 + 0.05 * np.log(v))
    fit = fit_curve(x, y, "log", n_boot=200)
    assert fit.params["a"] == pytest.approx(0.30, rel=0.05) and fit.params["b"] == pytest.approx(0.05, rel=0.05)
    assert fit.ci["b"][0] < 0.05 < fit.ci["b"][1] and fit.r2 > 0.99 and fit.points == 24


def test_saturating_fit_recovers_parameters_within_5_percent() -> None:
    x, y = noisy(lambda v: 0.80 - 0.50 * v ** -0.7)
    fit = fit_curve(x, y, "saturating", n_boot=200)
    for name, true in (("y_inf", 0.80), ("c", 0.50), ("k", 0.70)):
        assert fit.params[name] == pytest.approx(true, rel=0.05), name
        assert fit.ci[name][0] <= true <= fit.ci[name][1], name


def test_plateau_is_the_first_doubling_below_epsilon() -> None:
    # gain per doubling of 0.8 - 0.5 x^-0.7 is 0.5 x^-0.7 (1 - 2^-0.7) = 0.1922 x^-0.7: below 0.02 from
    # x > (0.1922 / 0.02)^(1 / 0.7) = 25.4, i.e. the grid point 32
    true_gain = 0.5 * (1 - 2 ** -0.7)
    assert (true_gain / 0.02) ** (1 / 0.7) == pytest.approx(25.4, abs=0.1)
    x, y = noisy(lambda v: 0.80 - 0.50 * v ** -0.7)
    fit = fit_curve(x, y, "saturating", n_boot=0)
    assert gain_per_doubling(fit.predict, 32) < 0.02 < gain_per_doubling(fit.predict, 16)
    assert plateau(GRID, 0.02, fit=fit) == 32
    means = {float(g): 0.80 - 0.50 * g ** -0.7 for g in GRID}
    assert plateau(GRID, 0.02, means=means) == 32
    assert plateau(GRID, 1e-9, means=means) is None


def test_fit_input_errors() -> None:
    with pytest.raises(ValueError, match="positive"):
        fit_curve([0, 1, 2], [0.1, 0.2, 0.3], "log")
    with pytest.raises(ValueError, match="3 distinct"):
        fit_curve([1, 1, 2, 2], [0.1, 0.2, 0.3, 0.4], "saturating")
    with pytest.raises(ValueError, match="form"):
        fit_curve([1, 2], [0.1, 0.2], "power")


def test_rm_metrics_on_hand_computed_fixtures() -> None:
    # pairs: win, loss, tie, win -> (1 + 0 + 0.5 + 1) / 4
    assert pairwise_accuracy([2.0, 0.1, 0.5, 3.0], [1.0, 0.4, 0.5, -1.0]) == 0.625
    assert pairwise_accuracy([1.0, 1.0], [1.0, 1.0]) == 0.5  # a constant RM is at chance
    scores = [[0.1, 0.9, 0.3], [0.5, 0.5, 0.2], [2.0, 1.0, 3.0], [0.0, -1.0, -2.0]]
    correct = [[False, True, False], [False, True, True], [True, True, False], [True, False, False]]
    # prompt 1: argmax 1 correct; 2: tie -> first (index 0) wrong; 3: index 2 wrong; 4: index 0 correct
    assert best_of_n_accuracy(scores, correct) == 0.5
    with pytest.raises(ValueError):
        best_of_n_accuracy([[0.1]], [[True, False]])


def test_grpo_at_n_1_switches_or_refuses() -> None:
    with pytest.raises(ConfigError, match="n >= 2"):
        algorithm_for("grpo", 1, switch_to="")
    with pytest.warns(UserWarning, match="REINFORCE"):
        assert algorithm_for("GRPO", 1) == "reinforce"
    with pytest.warns(UserWarning, match="RLOO at n = 1"):
        assert algorithm_for("rloo", 1) == "reinforce"
    assert algorithm_for("grpo", 4) == "grpo" and algorithm_for("rloo", 2) == "rloo"
    assert algorithm_for("reinforce", 1) == "reinforce"
    for bad, n in (("ppo", 4), ("reinforce", 4)):
        with pytest.raises(ConfigError):
            algorithm_for(bad, n)


def test_plateau_text() -> None:
    assert plateau_text(None) == "not reached on the grid" and plateau_text(4.0) == "4"


def test_a_degenerate_fit_is_flagged_and_claims_no_plateau(tmp_path) -> None:
    from labkit.rlhf.analysis import analyse

    flat = [{"axis": "n", "settings": {"n": n}, "gain": g} for n, g in
            ((1, -0.03), (2, -0.02), (8, -0.02), (1, -0.05), (2, -0.01), (8, -0.03))]  # noise around a constant
    text, axes = analyse(flat, n_boot=100)
    sat = axes["n"]["fits"]["saturating"]
    assert sat["degenerate"] and axes["n"]["plateau_fit"] is None
    assert "none claimed (the saturating fit is degenerate" in text and "**degenerate**" in text
    x, y = noisy(lambda v: 0.80 - 0.50 * v ** -0.7)
    assert fit_curve(x, y, "saturating", n_boot=50).degenerate == []  # a good fit is not flagged


def write_points(path, rows, header="n,seed,accuracy,accuracy_before"):
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_fit_reads_a_plain_csv_or_jsonl_of_points(tmp_path, capsys, monkeypatch) -> None:
    import json

    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    rows = [(n, s, round(0.3 + 0.5 - 0.5 * n ** -0.7 + 0.01 * (s - 1), 4), 0.3) for n in GRID for s in range(3)]
    csv_path = write_points(tmp_path / "verl_sweep.csv", rows)
    assert main_with_errors(app, ["rlhf", "fit", str(csv_path), "--out", str(tmp_path / "f")]) == 0
    fit = json.loads((tmp_path / "f" / "fit.json").read_text())
    sat = fit["axes"]["n"]["fits"]["saturating"]["params"]
    assert fit["y"] == "accuracy - accuracy_before" and fit["points"] == 24
    assert sat["y_inf"] == pytest.approx(0.5, abs=0.01) and sat["k"] == pytest.approx(0.7, abs=0.05)
    assert fit["findings"][0]["verdict"] == "consistent" and (tmp_path / "f" / "gain_vs_n.png").exists()
    jsonl = tmp_path / "points.jsonl"
    jsonl.write_text("".join(json.dumps({"n": n, "seed": s, "accuracy": a}) + "\n" for n, s, a, _ in rows))
    assert main_with_errors(app, ["rlhf", "fit", str(jsonl)]) == 0  # a new run folder under runs/rlhf
    assert "y = accuracy;" in capsys.readouterr().out and len(list((tmp_path / "runs" / "rlhf").iterdir())) == 1


@pytest.mark.parametrize(("rows", "header", "said"), [
    ([(1, 0, 0.4, 0.3), (2, 0, "", 0.3)], "n,seed,accuracy,accuracy_before",
     "verl_sweep.csv:3, field 'accuracy': missing"),
    ([(1, 0, 0.4), (2, "x", 0.5)], "n,seed,gain", "verl_sweep.csv:3, field 'seed': not a number: 'x'"),
    ([(0, 0, 0.4)], "n,seed,gain", "verl_sweep.csv:2, field 'n': must be > 0"),
    ([(1, 0, "nan")], "n,seed,gain", "field 'gain': not a finite number"),
    ([(1, 0, 0.4)], "n,kl,seed,gain", "name the x column with --axis"),
    ([(1, 0.4)], "n,gain", "verl_sweep.csv:2, field 'seed': missing"),
])
def test_a_bad_points_file_is_one_line_before_any_folder(tmp_path, capsys, monkeypatch, rows, header, said) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    path = write_points(tmp_path / "verl_sweep.csv", rows, header)
    assert main_with_errors(app, ["rlhf", "fit", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1 and not (tmp_path / "runs").exists()


def test_read_run_takes_every_point_sweep_writes(tmp_path) -> None:
    """The base point (axis null) and a categorical axis are points too; only a malformed one is refused."""
    import json

    from labkit.core.errors import DataError
    from labkit.rlhf.data import read_run

    def point(axis, n, gain):
        return {"axis": axis, "settings": {"n": n, "seed": 0, "algorithm": "grpo"}, "algorithm": "grpo",
                "accuracy_before": 0.2, "accuracy": 0.2 + gain, "gain": gain, "kl_to_ref": 0.0}

    values = [point(None, 2, 0.01), point("n", 4, 0.02), point("algorithm", 2, 0.03)]
    (tmp_path / "config.yaml").write_text("{}\n")
    (tmp_path / "results.jsonl").write_text("".join(
        json.dumps({"key": f"k{i}", "ok": True, "value": v}) + "\n" for i, v in enumerate(values)))
    points, failed = read_run(tmp_path)
    assert [p["axis"] for p in points] == [None, "n", "algorithm"] and failed == 0
    values[1]["settings"]["n"] = 0
    (tmp_path / "results.jsonl").write_text("".join(
        json.dumps({"key": f"k{i}", "ok": True, "value": v}) + "\n" for i, v in enumerate(values)))
    with pytest.raises(DataError, match="settings.n"):
        read_run(tmp_path)
