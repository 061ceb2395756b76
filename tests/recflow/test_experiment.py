"""Experiment families: every arm x seed runs, the headline is the family's metric, changes against the first
arm are reported with their per-seed values and a plot."""

from __future__ import annotations

from labkit.recflow.experiment import family_report, headline, run_family


def test_family_bookkeeping(tmp_path) -> None:
    calls = []

    def fake(arm: str, seed: int, folder) -> dict:
        calls.append((arm, seed, folder.name))
        return {"truth_recall": 0.2 + (0.01 if arm == "hard" else 0.0) + 0.001 * seed, "recall": {1000: 0.5}}

    rows = run_family(["random", "hard"], 2, fake, tmp_path, log=lambda _: None)
    assert calls == [("random", 0, "random-seed0"), ("random", 1, "random-seed1"), ("hard", 0, "hard-seed0"),
                     ("hard", 1, "hard-seed1")]
    text = family_report(rows, tmp_path)
    assert "hidden-truth recall" in text and "+0.0100" in text and "0.2100, 0.2110" in text
    assert (tmp_path / "experiment.png").exists()
    assert headline({"all_stage": {"recall": {100: 0.7}}})[1] == 0.7
    assert headline({"recall": {1000: 0.4}})[0].startswith("Recall@1000")
