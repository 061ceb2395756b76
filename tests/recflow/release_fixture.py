"""A tiny RecFlow folder in the release's layout, written here with pyarrow and pickle - not by
``labkit.recflow.generate`` - so the loaders, checks and metrics are tested against the format itself.

Two days: 2024-01-13 (training) and 2024-01-14 (test). Raw (0-based) IDs; every request has a history. The test
tables hold candidates the day's ``all_stage`` never logged (videos 9 and 5 of request 10), a request with no
positive (12) and one with only positives (13); the retrieval table is under the released code's spelling
``recall_test.feather``, the coarse one under the README's ``coarse_rank_test.feather``, rank under
``rank_test.feather``. Scoring every candidate by its video ID, the expected metrics are computed by hand in
``test_release_fixture.py``.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

DAY_MS = {"2024-01-13": 1_705_104_000_000, "2024-01-14": 1_705_190_400_000}
LAYOUT = ["request_id", "request_timestamp", "user_id", "device_id", "age", "gender", "province", "video_id",
          "author_id", "category_level_one", "category_level_two", "upload_type", "upload_timestamp", "duration",
          "realshow", "rerank_pos", "rerank_neg", "rank_pos", "rank_neg", "coarse_neg", "prerank_neg", "rank_index",
          "rerank_index", "playing_time", "effective_view", "long_view", "like", "follow", "forward", "comment"]
STAGES = ["realshow", "rerank_pos", "rerank_neg", "rank_pos", "rank_neg", "coarse_neg", "prerank_neg"]
N_VIDEOS, N_USERS = 10, 4
# request -> (user, [(video, stage flag, effective_view)]) as logged in all_stage
LOGGED = {
    "2024-01-13": {1: (0, [(7, "realshow", 1), (3, "realshow", 0), (2, "rank_neg", 0), (1, "prerank_neg", 0)]),
                   2: (1, [(4, "realshow", 1), (8, "realshow", 0), (0, "coarse_neg", 0)])},
    "2024-01-14": {10: (0, [(7, "realshow", 1), (3, "realshow", 0), (1, "rank_neg", 0)]),
                   11: (1, [(4, "realshow", 1), (8, "realshow", 0), (6, "realshow", 0)]),
                   12: (2, [(2, "realshow", 0), (3, "rank_neg", 0)]),
                   13: (3, [(5, "realshow", 1), (6, "realshow", 1)])},
}
# the coarse / rank test tables: request -> [(video, effective_view)]
CANDIDATES = {10: [(9, 0), (7, 1), (5, 0), (3, 0), (1, 1)], 11: [(8, 0), (6, 0), (4, 1)], 12: [(2, 0), (3, 0)],
              13: [(5, 1), (6, 1)]}
RETRIEVAL = {10: [(7, 1), (3, 0)], 11: [(4, 1), (8, 0)], 13: [(5, 1), (6, 1)], 12: [(2, 0)]}


def _video(v: int) -> dict[str, int]:
    return {"video_id": v, "author_id": v % 3, "category_level_one": v % 2, "category_level_two": v % 4,
            "upload_type": v % 2, "upload_timestamp": 1_704_000_000 + 3600 * v, "duration": 10_000 + 1000 * v}


def _user(u: int) -> dict[str, int]:
    return {"user_id": u, "device_id": u, "age": u % 3, "gender": u % 2, "province": u}


def _rows(day: str) -> list[dict[str, int]]:
    out = []
    for rid, (u, items) in LOGGED[day].items():
        for v, flag, ev in items:
            r = dict.fromkeys(LAYOUT, 0)
            r.update(request_id=rid, request_timestamp=DAY_MS[day] + 1000 * rid, **_user(u), **_video(v),
                     rank_index=-1, rerank_index=-1, effective_view=ev, playing_time=5000 * ev)
            r[flag] = 1
            if flag == "realshow":
                r["rerank_pos"] = r["rank_pos"] = 1
            out.append(r)
    return out


def table(rows: list[dict[str, int]], columns: list[str]) -> pa.Table:
    return pa.table({c: np.array([r[c] for r in rows], dtype=np.int64) for c in columns})


def _stage_dict(rows: list[dict[str, int]]) -> dict[int, dict[str, np.ndarray]]:
    cols = ["video_id", "author_id", "duration", "category_level_two", "upload_type", "upload_timestamp",
            "category_level_one", "effective_view"]
    out: dict[int, dict[str, np.ndarray]] = {}
    for r in rows:
        st = out.setdefault(r["request_id"], {s: np.zeros((0, 8), dtype=np.int64) for s in STAGES})
        for s in STAGES:
            if r[s]:
                st[s] = np.vstack([st[s], np.array([[r[c] for c in cols]], dtype=np.int64)])
    return out


def _history(user: int, ts: int) -> np.ndarray:
    """Two earlier effective views (the last rows, most recent last) for users 0 and 1, none for the others."""
    h = np.zeros((50, 10), dtype=np.int64)
    if user < 2:
        for j, v in enumerate((user + 1, user + 2)):
            f = _video(v)
            h[48 + j] = [v, f["author_id"], f["category_level_two"], f["category_level_one"], f["upload_type"],
                         f["upload_timestamp"], f["duration"], ts - 60_000 * (2 - j), 4000, 1]
    return h


def _dump(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def _write(t: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    feather.write_feather(t, path)


def write_release(root: Path) -> Path:
    root = Path(root)
    seen: set[int] = set()
    for day in LOGGED:
        rows = _rows(day)
        _write(table(rows, LAYOUT), root / "all_stage" / f"{day}.feather")
        _write(table([r for r in rows if r["realshow"]], LAYOUT), root / "realshow" / f"{day}.feather")
        reqs = {rid: (u, DAY_MS[day] + 1000 * rid) for rid, (u, _) in LOGGED[day].items()}
        _dump({rid: _history(u, ts) for rid, (u, ts) in reqs.items()}, root / "seq_effective_50_dict" / f"{day}.pkl")
        stages = _stage_dict(rows)
        _dump(stages, root / "request_id_dict" / f"{day}.pkl")
        _dump({1: stages[min(stages)]}, root / "ubm_seq_request_id_dict" / f"{day}.pkl")  # history request id 1
        seen |= {r["video_id"] for r in rows if r["realshow"]}
        info = [_video(v) for v in sorted(seen)]
        _write(table(info, list(info[0])), root / "others" / "realshow_video_info_daily" / f"{day}.feather")
    others = root / "others"
    corpus = [_video(v) for v in range(N_VIDEOS)]
    _write(table(corpus, list(corpus[0])), others / "realshow_video_info.feather")
    cnt = {"user_id": N_USERS, "device_id": N_USERS, "age": 3, "gender": 2, "province": N_USERS,
           "video_id": N_VIDEOS, "photo_id": N_VIDEOS, "author_id": 3, "category_level_one": 2,
           "category_level_two": 4, "upload_type": 2}
    _dump(cnt, others / "id_cnt.pkl")
    test_rows = []
    for rid, items in CANDIDATES.items():
        u = LOGGED["2024-01-14"][rid][0]
        for v, ev in items:
            test_rows.append({"request_id": rid, "request_timestamp": DAY_MS["2024-01-14"] + 1000 * rid, **_user(u),
                              **_video(v), "effective_view": ev})
    cols = ["request_id", "user_id", "request_timestamp", "device_id", "age", "gender", "province", "video_id",
            "author_id", "category_level_two", "upload_type", "upload_timestamp", "category_level_one",
            "effective_view"]
    _write(table(test_rows, cols), others / "coarse_rank_test.feather")
    _write(table(test_rows, cols), others / "rank_test.feather")
    retrieval = [{"request_id": rid, "user_id": LOGGED["2024-01-14"][rid][0], "video_id": v, "effective_view": ev}
                 for rid, items in RETRIEVAL.items() for v, ev in items]
    _write(table(retrieval, ["request_id", "user_id", "video_id", "effective_view"]), others / "recall_test.feather")
    return root
