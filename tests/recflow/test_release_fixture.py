"""The evaluation protocol on a folder written by ``release_fixture`` (not by labkit's generator): metrics on the
official test tables equal hand-computed values in the released form, per request and normalised (scores = the
video ID, so every ranking is known); both test-file spellings; the cascade; a run trained from a relative path
evaluates from another directory; every bad input is one line naming the file before any run folder exists."""

from __future__ import annotations

import math
import pickle
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest
import torch

from labkit.cli import app
from labkit.core.cli import main_with_errors
from labkit.recflow.data import Funnel
from labkit.recflow.eval import evaluate_cascade, evaluate_ranker, evaluate_retrieval
from labkit.recflow.validate import validate

from .release_fixture import write_release


def G(r: int) -> float:  # noqa: N802 - the gain of a hit at 0-based rank r
    return 1 / math.log2(r + 2)


class ByVideo(torch.nn.Module):
    """Scores a candidate by its (shifted) video ID, times ``sign``."""

    def __init__(self, sign: float = 1.0) -> None:
        super().__init__()
        self.w, self.sign = torch.nn.Parameter(torch.zeros(1)), sign

    def forward(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.sign * b["item"][:, 0].float() + 0 * self.w


class Retriever(torch.nn.Module):
    """Every user the same vector; an item's score is its (shifted) video ID."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def user_vector(self, hist: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.tensor([[1.0, 0.0]]).expand(len(hist), 2) + 0 * self.w

    def item_vector(self, items: torch.Tensor) -> torch.Tensor:
        return torch.stack([items[..., 0].float(), torch.ones(items.shape[:-1])], -1)


@pytest.fixture()
def release(tmp_path) -> Path:
    return write_release(tmp_path / "release")


def test_the_hand_written_release_validates(release) -> None:
    assert validate(release) == []


def test_ranking_metrics_on_the_coarse_test_table_by_hand(release) -> None:
    m = evaluate_ranker(Funnel(release), ByVideo(), "coarse", ks=(1, 2, 5))
    t = m["test_table"]
    assert t["file"].endswith("coarse_rank_test.feather") and t["rows"] == 12
    # request 10 ranks [9, 7, 5, 3, 1] (positives 7 and 1 at ranks 1 and 4; 9 and 5 are not in all_stage),
    # 11 ranks [8, 6, 4] (positive 4 at rank 2); 12 has no positive, 13 only positives: both skipped
    assert (t["requests"], t["positives"], t["skipped_no_positive"], t["skipped_all_positive"]) == (2, 3, 1, 1)
    assert t["recall"] == pytest.approx({"1": 0.0, "2": 1 / 3, "5": 1.0})
    assert t["ndcg"] == pytest.approx({"1": 0.0, "2": G(1) / 3, "5": (G(1) + G(4) + G(2)) / 3})
    assert t["recall_per_request"]["2"] == pytest.approx((1 / 2 + 0) / 2)
    assert t["ndcg_per_request"]["5"] == pytest.approx(((G(1) + G(4)) / 2 + G(2)) / 2)
    assert t["ndcg_normalised"]["5"] == pytest.approx(((G(1) + G(4)) / (G(0) + G(1)) + G(2) / G(0)) / 2)
    # AUC over the test day's exposures: positives {7, 4, 5, 6} against {3, 8, 6, 2}: 9.5 of 16 pairs (one tie)
    assert m["auc"] == pytest.approx(9.5 / 16) and m["rows"] == 8
    # GAUC by user: user 0 (7 over 3) 1.0 on 2 rows, user 1 (4 under 8 and 6) 0.0 on 3 rows; users 2, 3 one-label
    assert m["gauc"] == pytest.approx(2 / 5) and (m["groups"], m["skipped"]) == (2, 2)
    y = np.array([1, 0, 1, 0, 0, 0, 1, 1])
    p = 1 / (1 + np.exp(-(np.array([7, 3, 4, 8, 6, 2, 5, 6]) + 1.0)))
    assert m["logloss"] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-6)


def test_the_logged_rows_are_a_named_variant(release) -> None:
    m = evaluate_ranker(Funnel(release), ByVideo(), "coarse", candidates="logged", ks=(1, 3))
    a = m["logged"]["all_stage"]  # request 10 logs [7, 3, 1]: its positive 7 ranks first; 11 as above
    assert "test_table" not in m and a["recall"] == pytest.approx({"1": 1 / 2, "3": 1.0})


def test_the_released_code_spelling_of_the_coarse_table(release) -> None:
    others = release / "others"
    before = evaluate_ranker(Funnel(release), ByVideo(), "coarse", ks=(2,))["test_table"]
    (others / "coarse_rank_test.feather").rename(others / "prerank_test.feather")
    after = evaluate_ranker(Funnel(release), ByVideo(), "coarse", ks=(2,))["test_table"]
    assert after["file"].endswith("prerank_test.feather") and after["recall"] == before["recall"]


def test_retrieval_metrics_by_hand(release) -> None:
    m = evaluate_retrieval(Funnel(release), Retriever(), ks=(3, 5))  # top list: videos 9, 8, 7, ... 0
    assert m["file"].endswith("recall_test.feather") and m["corpus"] == 10
    # positives 7 (rank 2), 4 (rank 5), 5 (rank 4), 6 (rank 3); request 12 has none; 13 has only positives
    assert (m["requests"], m["positives"]) == (3, 4)
    assert m["recall"] == pytest.approx({"3": 1 / 4, "5": 3 / 4})
    assert m["ndcg"]["5"] == pytest.approx((G(2) + G(4) + G(3)) / 4)
    assert m["recall_per_request"]["5"] == pytest.approx((1 + 0 + 1) / 3)


def test_cascade_recall_k_m_by_hand(release) -> None:
    c = evaluate_cascade(Funnel(release), ByVideo(), ByVideo(-1.0), m1=2)
    # coarse keeps the 2 highest IDs, rank prefers low IDs: 10 -> [7, 9] (truth 7, 1), 11 -> [6, 8] (truth 4),
    # 13 -> [5, 6] (truth both); 12 has no truth
    assert c["requests"] == 3 and c["skipped_no_positive"] == 1
    assert c["cascade"]["recall@10@10"] == pytest.approx((1 / 2 + 0 + 1) / 3)
    c1 = evaluate_cascade(Funnel(release), ByVideo(), ByVideo(-1.0), m1=2, ms=(1,))
    assert c1["cascade"]["recall@10@1"] == pytest.approx((1 / 2 + 0 + 1 / 2) / 3)


def _run_dirs(runs: Path) -> list[Path]:
    return sorted(p for p in (runs / "recflow").glob("*") if p.is_dir()) if (runs / "recflow").exists() else []


def test_train_from_a_relative_path_then_eval_from_elsewhere(release, tmp_path, monkeypatch, capsys) -> None:
    import yaml

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(release.parent)
    for task in ("coarse", "retrieval"):
        assert main_with_errors(app, ["recflow", "train", "--data", "release", "--task", task,
                                      "--set", "train.batch=4"]) == 0
    trained = _run_dirs(tmp_path / "runs")
    assert yaml.safe_load((trained[0] / "config.yaml").read_text())["data"] == str(release)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    capsys.readouterr()
    assert main_with_errors(app, ["recflow", "eval", str(trained[0]), str(trained[1])]) != 0  # not a cascade
    assert main_with_errors(app, ["recflow", "eval", str(trained[0])]) == 0
    out = capsys.readouterr().out
    assert "coarse_rank_test.feather (12 rows, 3 candidates per request)" in out and "R@50 (released)" in out
    assert len(_run_dirs(tmp_path / "runs")) == 3  # the refused cascade made no folder


def _feather(path: Path, change) -> None:
    t = feather.read_table(path)
    feather.write_feather(change(t), path)


def _pickle(path: Path, change) -> None:
    with open(path, "rb") as f:
        obj = pickle.load(f)
    change(obj)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def _col(name: str, fn):
    return lambda t: t.set_column(t.column_names.index(name), name, pa.array(fn(t[name].to_numpy())))


DAY = "all_stage/2024-01-13.feather"
SEQ = "seq_effective_50_dict/2024-01-13.pkl"
BAD = {
    "empty day": (DAY, lambda p: _feather(p, lambda t: t.slice(0, 0)), [], "no rows"),
    "history missing": (SEQ, lambda p: _pickle(p, lambda d: d.pop(2)), [],
                        "request_id 2 of 2024-01-13.feather: no history"),
    "video info without author and category": (
        "others/realshow_video_info.feather", lambda p: _feather(p, lambda t: t.select(["video_id"])),
        ["--task", "retrieval"], "missing column(s) author_id, category_level_two"),
    "missing column": (DAY, lambda p: _feather(p, lambda t: t.drop(["upload_type"])), [],
                       "missing column(s) upload_type"),
    "truncated feather": (DAY, lambda p: p.write_bytes(p.read_bytes()[:200]), [], "not a readable feather file"),
    "a (49, 10) history": (SEQ, lambda p: _pickle(p, lambda d: d.__setitem__(1, d[1][1:])), [],
                           "shape (49, 10), expected (50, 10)"),
    "id_cnt too small": ("others/id_cnt.pkl", lambda p: _pickle(p, lambda d: d.update(video_id=5)), [],
                         "IDs outside 0..4 (id_cnt.pkl)", DAY),  # the first file holding a video ID >= 5
    "float column": (DAY, lambda p: _feather(p, _col("effective_view", lambda x: x.astype(float))), [],
                     "column effective_view: dtype double, expected an integer"),
    "timestamps in seconds": (DAY, lambda p: _feather(p, _col("request_timestamp", lambda x: x // 1000)), [],
                              "column request_timestamp: not milliseconds (looks like seconds)"),
    "a missing stage key": ("request_id_dict/2024-01-13.pkl", lambda p: _pickle(p, lambda d: d[1].pop("rank_neg")),
                            ["--strategy", "aux"], "missing stage(s) rank_neg"),
    "test table without effective_view": (
        "others/coarse_rank_test.feather", lambda p: _feather(p, lambda t: t.drop(["effective_view"])), [],
        "missing column(s) effective_view"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_naming_the_file_before_any_run_folder(case, release, tmp_path, monkeypatch,
                                                                      capsys) -> None:
    rel, spoil, options, message, *named = BAD[case]
    spoil(release / rel)
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    assert main_with_errors(app, ["recflow", "train", "--data", str(release), *options]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and err[0].startswith(f"error: {release / (named or [rel])[0]}") and message in err[0], err
    assert "Traceback" not in err[0] and _run_dirs(tmp_path / "runs") == []


def test_a_failed_eval_leaves_no_run_folder(release, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    assert main_with_errors(app, ["recflow", "train", "--data", str(release), "--set", "train.batch=4"]) == 0
    shutil.copy(release / "others" / "rank_test.feather", release / "others" / "keep.feather")
    (release / "others" / "coarse_rank_test.feather").write_bytes(b"not a feather file")
    run = _run_dirs(tmp_path / "runs")[0]
    assert main_with_errors(app, ["recflow", "eval", str(run)]) == 2
    assert "coarse_rank_test.feather: not a readable feather file" in capsys.readouterr().err
    assert _run_dirs(tmp_path / "runs") == [run]


def test_a_day_without_rows_trains_nothing_and_counts_as_done(release, tmp_path) -> None:
    from labkit.recflow.data import select_rows
    from labkit.recflow.retrieval import RetrievalSettings, train_retrieval
    from labkit.recflow.train import TrainSettings, train_ranker

    funnel = Funnel(release)
    full = funnel.day
    funnel.day = lambda d, which="all_stage": (lambda t: select_rows(t, np.zeros(len(t["user_id"]), bool)))(
        full(d, which))  # as if the user share kept nobody that day
    logged: list[dict] = []
    for strategy, model in (("bce", "dssm"), ("aux", "dssm"), ("fsltr", "din"), ("context", "din")):
        train_ranker(funnel, TrainSettings(strategy=strategy, model=model, batch=4), tmp_path / strategy,
                     log=logged.append)
    train_retrieval(funnel, RetrievalSettings(negatives="hard", batch=4), tmp_path / "r", log=logged.append)
    assert [r.get("rows", r.get("positives")) for r in logged] == [0] * 5
    assert all(torch.load(tmp_path / k / "checkpoint.pt")["next_day"] == 1 for k in ("bce", "context", "r"))


def test_experiment_resume_repeats_no_finished_arm(release, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    args = ["--set", "experiment.seeds=1", "--set", "train.batch=4"]
    assert main_with_errors(app, ["recflow", "experiment", "distribution-shift", "--data", str(release), *args]) == 0
    run = _run_dirs(tmp_path / "runs")[0]
    assert "sampling seed 0: Recall@100 on coarse_rank_test.feather" in capsys.readouterr().err
    assert main_with_errors(app, ["recflow", "experiment", "distribution-shift", "--resume", str(run)]) == 0
    captured = capsys.readouterr()
    assert "training on" not in captured.err and "| all | 0" in captured.out  # every arm came from the records
    assert main_with_errors(app, ["recflow", "experiment", "fs-ltr", "--resume", str(run)]) == 2
    assert "is a distribution-shift experiment, not fs-ltr" in capsys.readouterr().err
