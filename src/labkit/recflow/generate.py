"""A synthetic RecFlow funnel in the official layout (``schema``), with a hidden truth a model can be scored on.

Hidden world: users and videos have 8-d taste vectors; a video also has a quality. A user's true affinity for a
video is a = alpha * <u, v> + quality; the chance of an effective view when shown is sigmoid(a + bias).

Each request runs a cascade whose scorers see the affinity through noise that shrinks stage by stage (rho =
corr(stage score, affinity): retrieval 0.3, pre-rank 0.45, coarse 0.6, rank 0.75, re-rank 0.85). Per request
(calibrated on the paper's funnel, 180 logged items): retrieval gives 180 candidates (the best of 1,000 random videos by
its noisy score); pre-rank keeps 120 (60 ``prerank_neg``), coarse keeps 60 (60 ``coarse_neg``), rank orders 60
(its top 10 ``rank_pos``, the other 50 ``rank_neg``) and passes its top ``show + 10`` to re-rank, whose top
``show`` (4-7) are exposed (``rerank_pos`` and ``realshow``) and the other 10 are ``rerank_neg``.
``rank_index`` / ``rerank_index`` are positions in those stages (-1 for items that never reached them).

Feedback on exposures: effective_view ~ Bernoulli(p), long_view among effective views (more likely when p is
high), playing_time (ms) from the duration and the outcome, like/follow/forward/comment rare and rising with p;
rows that were not shown have zero feedback. Histories are the last 50 effective views before each request.
The hidden truth goes to ``_hidden/truth.npz`` (outside the official folders; the validator ignores it).
"""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labkit.recflow.schema import (
    COLUMNS,
    DIRS,
    FIRST_DAY,
    SEQ_COLS,
    SEQ_LEN,
    STAGE_COLS,
    STAGE_FLAGS,
    TEST_COLUMNS,
    TEST_FILES,
    VIDEO_INFO_COLS,
)

RHO = {"retrieval": 0.3, "prerank": 0.45, "coarse": 0.6, "rank": 0.75, "rerank": 0.85}
POOL, AFTER_PRERANK, AFTER_COARSE, RANK_TOP, RERANK_NEG, PROBE = 180, 120, 60, 10, 10, 1000


@dataclass
class World:
    users: dict[str, np.ndarray]
    videos: dict[str, np.ndarray]
    u: np.ndarray
    v: np.ndarray
    quality: np.ndarray
    alpha: float = 2.0
    bias: float = -2.0

    def affinity(self, users: np.ndarray, videos: np.ndarray) -> np.ndarray:
        """a for users (R,) against videos (R, K)."""
        return self.alpha * np.einsum("rd,rkd->rk", self.u[users], self.v[videos]) + self.quality[videos]


def make_world(n_users: int, n_videos: int, rng: np.random.Generator, day0: int) -> World:
    d = 8
    n_authors, n_cat2, n_cat1 = max(2, n_videos // 20), 60, 8
    cat2 = rng.integers(0, n_cat2, n_videos)
    users = {"user_id": np.arange(n_users), "device_id": rng.permutation(n_users),
             "age": rng.integers(0, 8, n_users), "gender": rng.integers(0, 3, n_users),
             "province": rng.integers(0, 34, n_users)}
    videos = {"video_id": np.arange(n_videos), "author_id": rng.integers(0, n_authors, n_videos),
              "category_level_one": cat2 % n_cat1, "category_level_two": cat2,
              "upload_type": rng.integers(0, 5, n_videos),
              "upload_timestamp": day0 - rng.integers(0, 90 * 86400, n_videos),  # seconds, up to 90 days before
              "duration": rng.integers(5_000, 300_000, n_videos)}  # ms
    topic = rng.normal(size=(n_cat2, d))  # videos of one category share a direction: learnable from IDs
    v = (topic[cat2] + 0.7 * rng.normal(size=(n_videos, d))) / np.sqrt(d)
    u = rng.normal(size=(n_users, d)) / np.sqrt(d)
    return World(users, videos, u, v, rng.normal(0, 0.5, n_videos))


def _noisy(a: np.ndarray, rho: float, rng: np.random.Generator) -> np.ndarray:
    sd = a.std() or 1.0
    return rho * a / sd + np.sqrt(1 - rho**2) * rng.normal(size=a.shape)


def _order(score: np.ndarray) -> np.ndarray:
    return np.argsort(-score, axis=1, kind="stable")


def run_requests(world: World, users: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The cascade for requests of ``users`` (R,): (R, POOL) arrays of videos, flags, indices and feedback."""
    r = len(users)
    probe = rng.integers(0, len(world.quality), (r, PROBE))
    a_probe = world.affinity(users, probe)
    pool = np.take_along_axis(probe, _order(_noisy(a_probe, RHO["retrieval"], rng))[:, :POOL], 1)
    a = world.affinity(users, pool)
    out = {k: np.zeros((r, POOL), dtype=np.int64) for k in STAGE_FLAGS}
    rank_index = np.full((r, POOL), -1, dtype=np.int64)
    rerank_index = np.full((r, POOL), -1, dtype=np.int64)
    rows = np.arange(r)[:, None]
    pre = _order(_noisy(a, RHO["prerank"], rng))  # positions into the pool, best first
    out["prerank_neg"][rows, pre[:, AFTER_PRERANK:]] = 1
    kept = pre[:, :AFTER_PRERANK]
    coarse = np.take_along_axis(kept, _order(_noisy(np.take_along_axis(a, kept, 1), RHO["coarse"], rng)), 1)
    out["coarse_neg"][rows, coarse[:, AFTER_COARSE:]] = 1
    kept = coarse[:, :AFTER_COARSE]
    rank = np.take_along_axis(kept, _order(_noisy(np.take_along_axis(a, kept, 1), RHO["rank"], rng)), 1)
    rank_index[rows, rank] = np.arange(AFTER_COARSE)
    out["rank_pos"][rows, rank[:, :RANK_TOP]] = 1
    out["rank_neg"][rows, rank[:, RANK_TOP:]] = 1
    show = rng.integers(4, 8, r)
    effective_view = np.zeros((r, POOL), dtype=np.int64)
    feedback = {k: np.zeros((r, POOL), dtype=np.int64) for k in ("playing_time", "long_view", "like", "follow",
                                                                 "forward", "comment")}
    p = 1 / (1 + np.exp(-(a + world.bias)))
    for i in range(r):  # re-rank: a handful per request
        n_in = show[i] + RERANK_NEG
        entering = rank[i, :n_in]
        order = entering[_order(_noisy(a[i, entering][None], RHO["rerank"], rng))[0]]
        rerank_index[i, order] = np.arange(n_in)
        shown, dropped = order[:show[i]], order[show[i]:]
        out["rerank_pos"][i, shown] = out["realshow"][i, shown] = 1
        out["rerank_neg"][i, dropped] = 1
        pe = p[i, shown]
        eff = rng.random(len(shown)) < pe
        longv = eff & (rng.random(len(shown)) < 0.2 + 0.5 * pe)
        dur = world.videos["duration"][pool[i, shown]]
        frac = np.where(longv, 1.0, np.where(eff, rng.uniform(0.3, 1.0, len(shown)), rng.uniform(0, 0.3, len(shown))))
        effective_view[i, shown] = eff
        feedback["long_view"][i, shown] = longv
        feedback["playing_time"][i, shown] = (dur * frac).astype(np.int64)
        for k, rate in (("like", 0.10), ("follow", 0.02), ("forward", 0.02), ("comment", 0.03)):
            feedback[k][i, shown] = rng.random(len(shown)) < rate * pe
    return {"video_id": pool, **out, "rank_index": rank_index, "rerank_index": rerank_index,
            "effective_view": effective_view, **feedback}


def _day_table(world: World, req_ids: np.ndarray, ts: np.ndarray, users: np.ndarray, funnel: dict[str, np.ndarray]
               ) -> dict[str, np.ndarray]:
    r = len(users)
    col: dict[str, np.ndarray] = {"request_id": np.repeat(req_ids, POOL), "request_timestamp": np.repeat(ts, POOL)}
    for k, arr in world.users.items():
        col[k] = np.repeat(arr[users], POOL)
    vids = funnel["video_id"].reshape(-1)
    for k, arr in world.videos.items():
        col[k] = arr[vids]
    for k in COLUMNS:
        if k not in col:
            col[k] = funnel[k].reshape(-1)
    assert len(col["request_id"]) == r * POOL
    return {k: col[k].astype(np.int64) for k in COLUMNS}


def _write_feather(cols: dict[str, np.ndarray], path: Path, order: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    path.parent.mkdir(parents=True, exist_ok=True)
    feather.write_feather(pa.table({k: cols[k] for k in order}), path, compression="zstd")


def _stage_arrays(table: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """{stage label: (k, 8) int64} for one request's rows."""
    out = {}
    for flag in STAGE_FLAGS:
        sel = rows[table[flag][rows] == 1]
        out[flag] = np.stack([table[c][sel] for c in STAGE_COLS], axis=1).astype(np.int64) if len(sel) else \
            np.zeros((0, len(STAGE_COLS)), dtype=np.int64)
    return out


def generate(out: Path, *, users: int = 1000, days: int = 4, videos: int | None = None, requests_per_day: float = 3.0,
             seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Write ``days`` days (the last is the test day) for ``users`` users; returns counts."""
    rng = np.random.default_rng(seed)
    start = dt.datetime.fromisoformat(FIRST_DAY).replace(tzinfo=dt.UTC)
    day0 = int(start.timestamp())
    world = make_world(users, videos or 20 * users, rng, day0)
    history: dict[int, list[np.ndarray]] = {u: [] for u in range(users)}
    stages: dict[int, dict[str, np.ndarray]] = {}
    exposed: set[int] = set()
    next_req, counts = 0, {"days": days, "requests": 0, "rows": 0, "exposures": 0, "effective_views": 0}
    for d in range(days):
        name = (start + dt.timedelta(days=d)).strftime("%Y-%m-%d")
        n_req = rng.poisson(requests_per_day, users)
        req_users = np.repeat(np.arange(users), n_req)
        ts_s = day0 + d * 86400 + rng.integers(0, 86400, len(req_users))
        order = np.lexsort((ts_s, req_users))
        req_users, ts = req_users[order], ts_s[order] * 1000 + rng.integers(0, 1000, len(order))  # ms
        req_ids = np.arange(next_req, next_req + len(req_users))
        next_req += len(req_users)
        table = _day_table(world, req_ids, ts, req_users, run_requests(world, req_users, rng))
        n_rows = len(table["request_id"])
        shown = table["realshow"] == 1
        _write_feather(table, out / DIRS["all_stage"] / f"{name}.feather", COLUMNS)
        _write_feather({k: v[shown] for k, v in table.items()}, out / DIRS["realshow"] / f"{name}.feather", COLUMNS)
        seq, requests = {}, {}
        ubm_ids: set[int] = set()
        for i, rid in enumerate(req_ids):
            rows = np.arange(i * POOL, (i + 1) * POOL)
            u = int(req_users[i])
            hist = history[u][-SEQ_LEN:]
            arr = np.zeros((SEQ_LEN, len(SEQ_COLS)), dtype=np.int64)
            if hist:
                arr[SEQ_LEN - len(hist):] = np.stack(hist)
                ubm_ids.update(int(x) for x in arr[SEQ_LEN - len(hist):, 9])
            seq[int(rid)] = arr
            requests[int(rid)] = stages[int(rid)] = _stage_arrays(table, rows)
            for j in rows[(table["realshow"][rows] == 1) & (table["effective_view"][rows] == 1)]:
                history[u].append(np.array([table[c][j] for c in SEQ_COLS], dtype=np.int64))
        for sub, obj in ((DIRS["seq"], seq), (DIRS["requests"], requests),
                         (DIRS["ubm"], {r: stages[r] for r in sorted(ubm_ids)})):
            (out / sub).mkdir(parents=True, exist_ok=True)
            with open(out / sub / f"{name}.pkl", "wb") as f:
                pickle.dump(obj, f, protocol=4)
        exposed.update(int(x) for x in table["video_id"][shown])
        info = {k: world.videos[k][sorted(exposed)] for k in VIDEO_INFO_COLS}
        _write_feather(info, out / DIRS["others"] / "realshow_video_info_daily" / f"{name}.feather", VIDEO_INFO_COLS)
        counts["requests"] += len(req_ids)
        counts["rows"] += n_rows
        counts["exposures"] += int(shown.sum())
        counts["effective_views"] += int((shown & (table["effective_view"] == 1)).sum())
        if d == days - 1:
            _write_tests(table, out / DIRS["others"], world, rng)
    others = out / DIRS["others"]
    _write_feather({k: world.videos[k][sorted(exposed)] for k in VIDEO_INFO_COLS}, others /
                   "realshow_video_info.feather", VIDEO_INFO_COLS)
    cnt = {k: int(v.max()) + 1 for k, v in {**world.users, **world.videos}.items() if k not in
           ("upload_timestamp", "duration")}
    cnt["photo_id"] = cnt["video_id"]
    cnt["request_id"] = next_req
    with open(others / "id_cnt.pkl", "wb") as f:
        pickle.dump(cnt, f, protocol=4)
    (out / "_hidden").mkdir(exist_ok=True)
    np.savez(out / "_hidden" / "truth.npz", u=world.u, v=world.v, quality=world.quality, alpha=world.alpha,
             bias=world.bias)
    return counts


def _write_tests(table: dict[str, np.ndarray], others: Path, world: World, rng: np.random.Generator) -> None:
    """The last day's test tables under both spellings, with the columns the released evaluation reads
    (``TEST_COLUMNS``): retrieval - the exposures; coarse / rank - every candidate that entered that stage plus
    as many random videos the funnel never logged (effective_view 0), like the release's tables, which hold
    candidates missing from ``all_stage``."""
    entered = {"coarse": table["prerank_neg"] == 0, "rank": (table["prerank_neg"] == 0) & (table["coarse_neg"] == 0)}
    tables = {"retrieval": {k: v[table["realshow"] == 1] for k, v in table.items()}}
    for kind, mask in entered.items():
        logged = {k: v[mask] for k, v in table.items()}
        first = np.unique(logged["request_id"], return_index=True)[1]
        per = len(logged["request_id"]) // max(len(first), 1)
        at = np.repeat(first, per)  # each request's first row, once per unlogged candidate
        extra = {k: logged[k][at] for k in ("request_id", "request_timestamp", *world.users)}
        vids = rng.integers(0, len(world.quality), len(at))
        extra.update({k: arr[vids] for k, arr in world.videos.items()}, effective_view=np.zeros(len(at), np.int64))
        order = np.argsort(np.r_[logged["request_id"], extra["request_id"]], kind="stable")
        tables[kind] = {c: np.r_[logged[c], extra[c]][order] for c in TEST_COLUMNS[kind]}
    for kind, names in TEST_FILES.items():
        for name in dict.fromkeys(names):
            _write_feather(tables[kind], others / name, TEST_COLUMNS[kind])
