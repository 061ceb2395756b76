"""The w/o-refinement ablation's bookkeeping: both arms per seed on the same seed, the independent arm capped at
the refinement arm's pair count, changes and their mean ± sd."""

from __future__ import annotations

from labkit.core.runs import Run
from labkit.spar import ablation
from labkit.spar.config import SparConfig


def _summary(pairs: int, before: float, after: float) -> dict:
    return {"pairs": pairs, "pair_similarity": 0.5,
            "before": {"held_out_pass": before, "ifeval": {"strict_mean": 20.0}},
            "after": {"held_out_pass": after, "ifeval": {"strict_mean": 21.0}}}


def test_arms_share_the_seed_and_pair_count(tmp_path, monkeypatch) -> None:
    calls = []

    def fake_iterate(cfg, run, ifeval):
        calls.append((cfg.iterate.seed, cfg.iterate.pairs, cfg.iterate.max_pairs, run.dir.name))
        return [_summary(7 if cfg.iterate.pairs == "refine" else 5, 10.0, 20.0 if cfg.iterate.pairs == "refine" else
                         12.5)]

    monkeypatch.setattr(ablation, "iterate", fake_iterate)
    rows = ablation.run_ablation(SparConfig(), Run(tmp_path), [], [3, 4])
    assert calls == [(3, "refine", None, "seed3-refine"), (3, "independent", 7, "seed3-independent"),
                     (4, "refine", None, "seed4-refine"), (4, "independent", 7, "seed4-independent")]
    s = ablation.summary(rows)
    assert s["refine"]["held_delta"] == [10.0, 10.0] and s["independent"]["held_delta"] == [2.5, 2.5]
    assert s["independent"]["ifeval_delta"] == [1.0, 1.0]
    text = ablation.ablation_report(rows, tmp_path)
    assert "+10.0 ± 0.0" in text and "+2.5 ± 0.0" in text and (tmp_path / "ablation.png").exists()


def test_ablation_seeds_are_a_config_key_checked_before_any_run(tmp_path, monkeypatch, capsys) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors, resolve_config
    from labkit.spar.config import SparConfig

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    for bad in ("-1", "0,x"):
        assert main_with_errors(app, ["spar", "ablation", f"--seeds={bad}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --seeds:"), err
    assert not (tmp_path / "runs").exists()
    assert resolve_config(SparConfig, None, ["ablation.seeds=[3,4]"]).ablation.seeds == [3, 4]
