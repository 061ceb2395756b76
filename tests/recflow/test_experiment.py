"""Experiment families: every arm x seed runs through the shared run records, so a resumed experiment repeats no
finished arm; the headline is the family's metric, changes against the first arm are reported with their
per-seed values and a plot."""

from __future__ import annotations

import pytest

from labkit.core.errors import LabkitError
from labkit.core.runs import resume_run, start_run
from labkit.recflow import method
from labkit.recflow.config import RecflowConfig
from labkit.recflow.experiment import family_report, headline


def test_a_resumed_experiment_repeats_no_finished_arm(tmp_path, monkeypatch) -> None:
    trained, fail = [], {"hard-1"}

    def fake_train(funnel, s, folder, log=None):
        key = f"{s.negatives}-{s.seed}"
        trained.append(key)
        if key in fail:
            fail.discard(key)
            raise RuntimeError("killed")
        return key

    def fake_eval(funnel, model, s, candidates):
        return {"truth_recall": 0.2 + (0.01 if s.negatives == "hard" else 0.0) + 0.001 * s.seed,
                "recall": {"1000": 0.5}}

    monkeypatch.setattr(method, "train", fake_train)
    monkeypatch.setattr(method, "evaluate", fake_eval)

    class FakeFunnel:
        train_days = ["d1"]

    cfg = RecflowConfig()
    cfg.experiment.seeds, cfg.experiment.strategies = 2, ["random", "hard"]
    run = start_run("recflow", "t", {}, root=tmp_path)
    with pytest.raises(LabkitError, match="hard-1: RuntimeError: killed"):
        method.experiment(run, FakeFunnel(), cfg, "retrieval-negatives", "official", log=lambda _: None)
    assert trained == ["random-0", "random-1", "hard-0", "hard-1"]
    rows = method.experiment(resume_run(run.dir), FakeFunnel(), cfg, "retrieval-negatives", "official",
                             log=lambda _: None)
    assert trained[4:] == ["hard-1"]  # only the failed arm ran again
    assert [(a, s) for a, s, _ in rows] == [("random", 0), ("random", 1), ("hard", 0), ("hard", 1)]
    text = family_report(rows, tmp_path)
    assert "hidden-truth recall" in text and "+0.0100" in text and "0.2100, 0.2110" in text
    assert (tmp_path / "experiment.png").exists()


def test_headlines_name_their_table_and_form() -> None:
    name, value = headline({"test_table": {"file": "/x/others/coarse_rank_test.feather", "recall": {"100": 0.7}}})
    assert (name, value) == ("Recall@100 on coarse_rank_test.feather", 0.7)
    assert headline({"logged": {"all_stage": {"recall": {"100": 0.6}}}})[1] == 0.6
    assert headline({"recall": {"1000": 0.4}})[0].startswith("Recall@1000")
