"""RecFlow's layout: generated folders validate and carry the brief's per-stage counts; a folder written by hand
in the release's layout and spellings (the released code's test-file names) loads through the same loaders; IDs
shift by one except category_level_one, padding history rows stay zero and never count; a broken folder gives
one line per problem naming file, column and row."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from labkit.recflow import data
from labkit.recflow.generate import generate
from labkit.recflow.schema import COLUMNS, STAGE_FLAGS
from labkit.recflow.validate import validate


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("recflow")
    return root, generate(root, users=60, days=3, videos=600, seed=1)


def test_generated_folder_validates_with_the_briefs_counts(generated) -> None:
    root, counts = generated
    assert validate(root) == []
    _, t = next(data.iter_days(root))
    per = {f: np.bincount(np.unique(t["request_id"], return_inverse=True)[1], weights=t[f]) for f in STAGE_FLAGS}
    assert set(per["prerank_neg"]) == set(per["coarse_neg"]) == {60} and set(per["rank_neg"]) == {50}
    assert set(per["rank_pos"]) == set(per["rerank_neg"]) == {10} and set(per["realshow"]) <= {4, 5, 6, 7}
    assert counts["rows"] == 180 * counts["requests"] and 0.3 < counts["effective_views"] / counts["exposures"] < 0.8


def test_days_stream_in_order_and_users_subsample_consistently(generated) -> None:
    root, _ = generated
    seen = [(day, set(t["user_id"].tolist())) for day, t in data.iter_days(root, users=0.5, seed=3)]
    assert [d for d, _ in seen] == ["2024-01-13", "2024-01-14", "2024-01-15"]
    kept = set().union(*(u for _, u in seen))
    assert 10 < len(kept) < 50
    for _, t in data.iter_days(root, which="realshow", users=0.5, seed=3):
        assert set(t["user_id"].tolist()) <= kept


def _hand_written(root: Path) -> None:
    """Two requests of one day in the release's layout, test tables under the released code's names."""
    rows = []
    for rid, (user, ts) in enumerate([(0, 1_705_104_000_123), (1, 1_705_104_100_456)]):
        for vid, flags in ((3, dict(realshow=1, rerank_pos=1, rank_pos=1)), (4, dict(rank_neg=1)),
                           (5, dict(prerank_neg=1))):
            r = {c: 0 for c in COLUMNS}
            r.update(request_id=rid, request_timestamp=ts, user_id=user, device_id=user, age=2, gender=1, province=7,
                     video_id=vid, author_id=vid // 2, category_level_one=0, category_level_two=vid, upload_type=1,
                     upload_timestamp=1_704_000_000, duration=15_000, rank_index=-1, rerank_index=-1, **flags)
            r["effective_view"] = int(vid == 3 and user == 0)
            rows.append(r)
    table = pa.table({c: np.array([r[c] for r in rows], dtype=np.int64) for c in COLUMNS})
    for sub in ("all_stage", "realshow"):
        (root / sub).mkdir(parents=True)
    feather.write_feather(table, root / "all_stage" / "2024-01-13.feather")
    shown = table.filter(pa.compute.equal(table["realshow"], 1))
    feather.write_feather(shown, root / "realshow" / "2024-01-13.feather")
    hist = np.zeros((50, 10), dtype=np.int64)
    hist[-1] = [7, 3, 9, 0, 1, 1_703_000_000, 20_000, 1_704_999_000_000, 12_000, 99]
    stage = {s: np.zeros((0, 8), dtype=np.int64) for s in STAGE_FLAGS}
    stage["realshow"] = np.array([[3, 1, 15_000, 3, 1, 1_704_000_000, 0, 1]], dtype=np.int64)
    for sub, obj in (("seq_effective_50_dict", {0: hist, 1: np.zeros((50, 10), dtype=np.int64)}),
                     ("request_id_dict", {0: stage, 1: stage}), ("ubm_seq_request_id_dict", {99: stage})):
        (root / sub).mkdir()
        with open(root / sub / "2024-01-13.pkl", "wb") as f:
            pickle.dump(obj, f)
    others = root / "others"
    others.mkdir()
    with open(others / "id_cnt.pkl", "wb") as f:
        pickle.dump({"user_id": 2, "device_id": 2, "age": 8, "gender": 3, "province": 34, "video_id": 10,
                     "photo_id": 10, "author_id": 5, "category_level_one": 1, "category_level_two": 10,
                     "upload_type": 2}, f)
    info = pa.table({c: np.array([3], dtype=np.int64) for c in ("video_id", "author_id", "category_level_two")})
    feather.write_feather(info, others / "realshow_video_info.feather")
    (others / "realshow_video_info_daily").mkdir()
    feather.write_feather(info, others / "realshow_video_info_daily" / "2024-01-13.feather")
    feather.write_feather(shown, others / "recall_test.feather")  # retrieval: the test day's exposures
    for name in ("prerank_test.feather", "rank_test.feather"):
        feather.write_feather(table, others / name)


def test_hand_written_release_layout_loads_with_ids_shifted(tmp_path) -> None:
    _hand_written(tmp_path)
    assert validate(tmp_path) == []
    (day, t), = list(data.iter_days(tmp_path))
    assert day == "2024-01-13" and t["video_id"].tolist() == [4, 5, 6, 4, 5, 6]  # +1
    assert t["category_level_one"].tolist() == [0] * 6 and t["user_id"].tolist() == [1, 1, 1, 2, 2, 2]
    assert t["request_id"].tolist() == [0, 0, 0, 1, 1, 1]  # keys are not shifted
    assert data.test_table(tmp_path, "retrieval")["video_id"].tolist() == [4, 4]  # recall_test spelling, +1
    assert data.test_table(tmp_path, "coarse")["video_id"].tolist() == [4, 5, 6, 4, 5, 6]  # prerank_test
    h = data.load_histories(tmp_path, day)
    assert h[0][-1].tolist() == [8, 4, 10, 0, 2, 1_703_000_000, 20_000, 1_704_999_000_000, 12_000, 99]
    assert not h[0][:-1].any() and data.history_valid(h[0]).sum() == 1 and data.history_valid(h[1]).sum() == 0
    st = data.load_stage_dict(tmp_path, day)[0]["realshow"][0]
    assert st[[0, 1, 3, 4, 6]].tolist() == [4, 2, 4, 2, 0]  # video, author, cat2, upload_type +1; cat1 kept
    assert data.id_counts(tmp_path)["video_id"] == 11 and data.id_counts(tmp_path)["category_level_one"] == 1


def test_a_broken_folder_gives_one_line_per_problem(tmp_path) -> None:
    _hand_written(tmp_path)
    path = tmp_path / "all_stage" / "2024-01-13.feather"
    t = feather.read_table(path)
    cols = {c: t[c].to_numpy().copy() for c in t.column_names}
    cols["request_timestamp"] //= 1000  # seconds
    cols["upload_timestamp"] *= 1000  # milliseconds
    cols["like"][4] = 2
    cols["video_id"][5] = 10  # id_cnt says 10 videos: 0..9
    order = ["request_timestamp", "request_id", *COLUMNS[2:]]
    feather.write_feather(pa.table({c: cols[c] for c in order}), path)
    with open(tmp_path / "seq_effective_50_dict" / "2024-01-13.pkl", "wb") as f:
        bad = np.zeros((50, 10), dtype=np.int64)
        bad[0, 7] = 1_704_999_000_000  # a behaviour on the left: padding is not left
        pickle.dump({0: np.zeros((50, 9), dtype=np.int64), 1: bad}, f)
    (tmp_path / "others" / "recall_test.feather").unlink()
    problems = validate(tmp_path)
    expect = ["column order differs from the release at position 0", "column request_timestamp: not milliseconds "
              "(looks like seconds) at row 0 (6 rows)", "column upload_timestamp: not seconds (looks like "
              "milliseconds) at row 0 (6 rows)", "column like: values other than 0/1 at row 4 (1 rows)",
              "column video_id: IDs outside 0..9 (id_cnt.pkl) at row 5 (1 rows)", "key 0: shape (50, 9), expected "
              "(50, 10)", "key 1: padding rows are not all on the left", "no retrieval test table"]
    for e in expect:
        assert sum(e in p for p in problems) == 1, (e, problems)
    assert all(p.startswith(str(tmp_path)) for p in problems)
