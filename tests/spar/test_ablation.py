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
