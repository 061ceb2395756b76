"""Loaders for the official RecFlow layout (or a generated folder: the same files).

- days stream in date order, one feather file at a time (polars; pyarrow when polars is absent), as numpy
  columns; a user subsample (``users``: a share, decided by a hash of the user ID, the same on every day)
  keeps small machines in reach;
- IDs are shifted by +1 (0 = padding) except ``category_level_one``, in tables, histories (valid rows only)
  and stage arrays; padding rows of a history stay all zero and never count as valid;
- test tables are found under either spelling;
- ``Funnel``: one folder as a command reads it (resolved path, user share, hash seed), the small files (day list,
  id_cnt, the exposed corpus, test tables) opened once and kept; day files are read when their day comes.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import DataError
from labkit.recflow.schema import DIRS, ID_FIELDS, SEQ_ID_COLS, SEQ_VALID_COL, STAGE_ID_COLS, TEST_FILES, VIDEO_ITEM

Table = dict[str, np.ndarray]


def day_names(root: Path) -> list[str]:
    days = sorted(p.stem for p in (Path(root) / DIRS["all_stage"]).glob("*.feather"))
    if not days:
        raise DataError(f"{Path(root) / DIRS['all_stage']}: no day files (YYYY-MM-DD.feather); is this a RecFlow "
                        "folder? (`labkit recflow validate` checks one)")
    return days


def read_feather(path: Path, columns: list[str] | None = None) -> Table:
    try:
        import polars as pl

        df = pl.read_ipc(path, columns=columns)
        return {c: df[c].to_numpy() for c in df.columns}
    except ImportError:
        import pyarrow.feather as feather

        t = feather.read_table(path, columns=columns)
        return {c: t.column(c).to_numpy() for c in t.column_names}


def keep_users(user_id: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """A boolean mask keeping about ``share`` of users, the same users on every day (hash of ID and seed)."""
    if share >= 1:
        return np.ones(len(user_id), dtype=bool)
    h = (user_id.astype(np.uint64) * np.uint64(2654435761) + np.uint64(seed * 97 + 13)) % np.uint64(2**32)
    return h.astype(np.float64) / 2**32 < share


def shift_ids(table: Table) -> Table:
    return {k: v + 1 if k in ID_FIELDS else v for k, v in table.items()}


def select_rows(table: Table, mask: np.ndarray) -> Table:
    return {k: v[mask] for k, v in table.items()}


def iter_days(root: Path, *, which: str = "all_stage", days: list[str] | None = None, users: float = 1.0,
              seed: int = 0, columns: list[str] | None = None) -> Iterator[tuple[str, Table]]:
    """(day, table) in date order from ``all_stage`` or ``realshow``; IDs shifted, users subsampled."""
    want = list(columns) if columns is not None else None
    if want is not None and "user_id" not in want:
        want.append("user_id")
    for day in days or day_names(root):
        t = read_feather(Path(root) / DIRS[which] / f"{day}.feather", want)
        yield day, shift_ids(select_rows(t, keep_users(t["user_id"], users, seed)))


def test_path(root: Path, kind: str) -> Path:
    """The ``retrieval``/``coarse``/``rank`` test table's file under either of its spellings (the README's first)."""
    others = Path(root) / DIRS["others"]
    for name in TEST_FILES[kind]:
        if (others / name).exists():
            return others / name
    raise DataError(f"{others}: no {kind} test table ({' or '.join(dict.fromkeys(TEST_FILES[kind]))})")


def test_table(root: Path, kind: str, *, users: float = 1.0, seed: int = 0) -> Table:
    """The last day's ``retrieval``/``coarse``/``rank`` test table under either of its spellings."""
    t = read_feather(test_path(root, kind))
    return shift_ids(select_rows(t, keep_users(t["user_id"], users, seed)))


def load_pickle(path: Path) -> Any:
    """A pickled dictionary of the layout; a missing file is a DataError naming it."""
    if not path.exists():
        raise DataError(f"{path}: missing")
    with open(path, "rb") as f:
        return pickle.load(f)


def shift_history(arr: np.ndarray) -> np.ndarray:
    """A (50, 10) history with IDs +1 on its valid rows; padding rows stay all zero."""
    out = arr.astype(np.int64, copy=True)
    valid = out[:, SEQ_VALID_COL] > 0
    out[np.ix_(valid, SEQ_ID_COLS)] += 1
    return out


def history_valid(arr: np.ndarray) -> np.ndarray:
    """Which rows of a (.., 50, 10) history are real behaviours (request_timestamp > 0)."""
    return arr[..., SEQ_VALID_COL] > 0


def load_histories(root: Path, day: str, request_ids: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """request_id -> shifted (50, 10) history for ``day`` (only ``request_ids`` when given)."""
    path = Path(root) / DIRS["seq"] / f"{day}.pkl"
    raw = load_pickle(path)
    keys = list(raw.keys()) if request_ids is None else [int(r) for r in request_ids]
    missing = [k for k in keys if k not in raw]
    if missing:
        raise DataError(f"{path}: request_id {missing[0]}: no history ({len(missing)} request(s) of the day lack one)")
    return {int(k): shift_history(raw[k]) for k in keys}


def shift_stages(stages: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for s, arr in stages.items():
        a = arr.astype(np.int64, copy=True)
        if len(a):
            a[:, STAGE_ID_COLS] += 1
        out[s] = a
    return out


def load_stage_dict(root: Path, day: str, which: str = "requests") -> dict[int, dict[str, np.ndarray]]:
    """request_id -> {stage: shifted (k, 8) array} from ``request_id_dict`` or ``ubm_seq_request_id_dict``."""
    raw = load_pickle(Path(root) / DIRS[which] / f"{day}.pkl")
    return {int(k): shift_stages(v) for k, v in raw.items()}


def id_counts(root: Path) -> dict[str, int]:
    """Embedding sizes: cardinality + 1 for shifted fields (0 = padding); ``category_level_one`` is not shifted
    (its 0 is a real category: padded history rows are told apart by ``history_valid``, not by an ID)."""
    cnt = load_pickle(Path(root) / DIRS["others"] / "id_cnt.pkl")
    return {k: int(v) + (1 if k in ID_FIELDS or k == "photo_id" else 0) for k, v in cnt.items()}


def video_items(path: Path) -> np.ndarray:
    """(V, 3) shifted video, author, category-two IDs of a video-info table, one row per video (its first)."""
    t = shift_ids(read_feather(path, VIDEO_ITEM))
    _, first = np.unique(t["video_id"], return_index=True)
    first.sort()
    return np.stack([t[c][first] for c in VIDEO_ITEM], 1)


@dataclass
class Funnel:
    """A RecFlow folder as one command reads it: ``root`` (resolved, so a run's record works from anywhere), the
    share of users kept and the hash seed. Small files are read once and kept; day files when asked for."""

    root: Path
    users: float = 1.0
    seed: int = 0
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    @property
    def days(self) -> list[str]:
        return self._once("days", lambda: day_names(self.root))

    @property
    def train_days(self) -> list[str]:
        return self.days[:-1]

    @property
    def test_day(self) -> str:
        return self.days[-1]

    @property
    def sizes(self) -> dict[str, int]:
        """Embedding sizes from ``id_cnt.pkl`` (``id_counts``)."""
        return self._once("sizes", lambda: id_counts(self.root))

    def day(self, day: str, which: str = "all_stage") -> Table:
        (_, t), = iter_days(self.root, which=which, days=[day], users=self.users, seed=self.seed)
        return t

    def histories(self, day: str, request_ids: np.ndarray) -> dict[int, np.ndarray]:
        return load_histories(self.root, day, request_ids)

    def stages(self, day: str, which: str = "requests") -> dict[int, dict[str, np.ndarray]]:
        return load_stage_dict(self.root, day, which)

    def test_path(self, kind: str) -> Path:
        return test_path(self.root, kind)

    def test_table(self, kind: str) -> Table:
        return self._once(f"test-{kind}", lambda: test_table(self.root, kind, users=self.users, seed=self.seed))

    def corpus(self, day: str | None = None) -> np.ndarray:
        """(V, 3) shifted video, author, category-two IDs of the exposed corpus: cumulative up to ``day``
        (``realshow_video_info_daily``), or the whole release (``realshow_video_info``, kept)."""
        others = self.root / DIRS["others"]
        if day:
            return video_items(others / "realshow_video_info_daily" / f"{day}.feather")
        return self._once("corpus", lambda: video_items(others / "realshow_video_info.feather"))
