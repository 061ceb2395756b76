"""Checking a RecFlow folder against the layout in ``schema`` - all of it (``labkit recflow validate``), or what a
command is about to read (``check_inputs``, before any run folder exists or any training starts).

One line per problem, naming the file, the column or key (request ID), and the first row where it happens
(with how many share it): column names and order, integer dtypes, ms vs s timestamps, 0/1 flags, IDs within
``id_cnt`` (tables, histories, stage arrays), empty days, (50, 10) history arrays left-padded with zero rows and
one for every request of the day (and of the test tables), (k, 8) stage arrays with all seven stages, the test
tables under either spelling with the columns the released evaluation reads, the video info with the fields
retrieval reads."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import DataError
from labkit.recflow.schema import (
    BINARY,
    COLUMNS,
    DIRS,
    ID_FIELDS,
    MS_MAX,
    MS_MIN,
    S_MAX,
    SEQ_COLS,
    SEQ_ID_COLS,
    SEQ_LEN,
    SEQ_VALID_COL,
    STAGE_COLS,
    STAGE_FLAGS,
    STAGE_ID_COLS,
    TEST_COLUMNS,
    TEST_FILES,
    VIDEO_INFO_COLS,
    VIDEO_ITEM,
)

# id_cnt keys the models size their embeddings by
ID_CNT_KEYS = ["user_id", "device_id", "age", "gender", "province", "video_id", "photo_id", "author_id",
               "category_level_one", "category_level_two", "upload_type"]
# the fields of history columns and stage-array columns, for the ID range checks
SEQ_FIELDS = {i: SEQ_COLS[i] for i in (*SEQ_ID_COLS, 3)}
STAGE_FIELDS = {i: STAGE_COLS[i] for i in (*STAGE_ID_COLS, 6)}


@dataclass(frozen=True)
class Needs:
    """What a command reads: every day (``train``) or only the test day, the per-day pickles (``seq``,
    ``requests``, ``ubm``), the test day's exposure file, the test tables, the exposed corpus (``corpus``: the
    whole one, and the daily ones of the training days when it trains)."""

    train: bool = True
    pickles: tuple[str, ...] = ("seq", "requests", "ubm")
    realshow: bool = True
    tests: tuple[str, ...] = tuple(TEST_FILES)
    corpus: bool = True


def _first(bad: np.ndarray) -> str:
    rows = np.flatnonzero(bad)
    return f"row {rows[0]} ({len(rows)} rows)"


def check_table(path: Path, id_cnt: dict[str, int] | None, *, expect: list[str] = COLUMNS,
                exposures: bool = False, required: list[str] | None = None) -> list[str]:
    """``required`` None: exactly ``expect`` in order (the day files, whose layout the release documents);
    otherwise those columns must exist and any column of ``expect`` present is checked (tables whose full
    layout the release does not document: test tables, video info)."""
    import pyarrow.feather as feather
    import pyarrow.types as pat

    try:
        table = feather.read_table(path)
    except Exception as e:  # noqa: BLE001 - any unreadable file is one problem line
        return [f"{path}: not a readable feather file ({type(e).__name__}: {e})"]
    names = table.column_names
    problems = [] if table.num_rows else [f"{path}: no rows"]
    if required is None:
        missing, extra = [c for c in expect if c not in names], [c for c in names if c not in expect]
    else:
        missing, extra = [c for c in required if c not in names], []
    if missing:
        problems.append(f"{path}: missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"{path}: unexpected column(s) {', '.join(extra)}")
    if required is None and not missing and not extra and names != expect:
        at = next(i for i, (a, b) in enumerate(zip(names, expect, strict=True)) if a != b)
        problems.append(f"{path}: column order differs from the release at position {at}: {names[at]!r} where "
                        f"{expect[at]!r} belongs")
    for c in names:
        if c not in expect:
            continue
        if not pat.is_integer(table.schema.field(c).type):
            problems.append(f"{path}: column {c}: dtype {table.schema.field(c).type}, expected an integer")
            continue
        x = table.column(c).to_numpy()
        if c == "request_timestamp" and ((x < MS_MIN) | (x >= MS_MAX)).any():
            unit = " (looks like seconds)" if (x < MS_MIN).all() else ""
            problems.append(f"{path}: column {c}: not milliseconds{unit} at {_first((x < MS_MIN) | (x >= MS_MAX))}")
        elif c == "upload_timestamp" and (x >= S_MAX).any():
            problems.append(f"{path}: column {c}: not seconds (looks like milliseconds) at {_first(x >= S_MAX)}")
        elif c in BINARY and ((x != 0) & (x != 1)).any():
            problems.append(f"{path}: column {c}: values other than 0/1 at {_first((x != 0) & (x != 1))}")
        elif id_cnt and (c in ID_FIELDS or c == "category_level_one") and c in id_cnt and \
                ((x < 0) | (x >= id_cnt[c])).any():
            problems.append(f"{path}: column {c}: IDs outside 0..{id_cnt[c] - 1} (id_cnt.pkl) at "
                            f"{_first((x < 0) | (x >= id_cnt[c]))}")
    if exposures and "realshow" in names and (table.column("realshow").to_numpy() != 1).any():
        problems.append(f"{path}: column realshow: an exposure file holds unexposed rows at "
                        f"{_first(table.column('realshow').to_numpy() != 1)}")
    return problems


def _load_pickle(path: Path) -> tuple[Any, list[str]]:
    try:
        with open(path, "rb") as f:
            return pickle.load(f), []
    except Exception as e:  # noqa: BLE001
        return None, [f"{path}: not a readable pickle ({type(e).__name__}: {e})"]


def _out_of_range(arr: np.ndarray, fields: dict[int, str], id_cnt: dict[str, int] | None) -> str | None:
    for col, name in fields.items():
        if id_cnt and name in id_cnt and len(arr) and ((arr[:, col] < 0) | (arr[:, col] >= id_cnt[name])).any():
            return f"column {col} ({name}): IDs outside 0..{id_cnt[name] - 1} (id_cnt.pkl)"
    return None


def check_sequences(path: Path, id_cnt: dict[str, int] | None = None, keys: set[int] | None = None) -> list[str]:
    """Problems of a ``seq_effective_50_dict`` file; its request IDs are added to ``keys`` when given."""
    obj, problems = _load_pickle(path)
    if obj is None:
        return problems
    if not isinstance(obj, dict):
        return [f"{path}: expected a dict request_id -> (50, 10) array, got {type(obj).__name__}"]
    if keys is not None:
        keys.update(int(k) for k in obj)
    bad: dict[str, list[Any]] = {}
    for rid, arr in obj.items():
        if not isinstance(arr, np.ndarray) or arr.shape != (SEQ_LEN, len(SEQ_COLS)):
            bad.setdefault(f"shape {getattr(arr, 'shape', type(arr).__name__)}, expected ({SEQ_LEN}, "
                           f"{len(SEQ_COLS)})", []).append(rid)
            continue
        if not np.issubdtype(arr.dtype, np.integer):
            bad.setdefault(f"dtype {arr.dtype}, expected int64", []).append(rid)
            continue
        valid = arr[:, SEQ_VALID_COL] > 0
        if valid.any() and not valid[np.argmax(valid):].all():
            bad.setdefault("padding rows are not all on the left", []).append(rid)
        if (arr[~valid] != 0).any():
            bad.setdefault("a padding row (request_timestamp 0) has non-zero fields", []).append(rid)
        ts = arr[valid, SEQ_VALID_COL]
        if len(ts) and ((ts < MS_MIN) | (ts >= MS_MAX)).any():
            bad.setdefault("history request_timestamp (column 7) not in milliseconds", []).append(rid)
        elif len(ts) > 1 and (np.diff(ts) < 0).any():
            bad.setdefault("history not in time order (most recent last)", []).append(rid)
        msg = _out_of_range(arr[valid], SEQ_FIELDS, id_cnt)
        if msg:
            bad.setdefault(msg, []).append(rid)
    return [f"{path}: key {ids[0]}: {msg} ({len(ids)} keys)" for msg, ids in bad.items()]


def check_stage_dict(path: Path, id_cnt: dict[str, int] | None = None) -> list[str]:
    obj, problems = _load_pickle(path)
    if obj is None:
        return problems
    if not isinstance(obj, dict):
        return [f"{path}: expected a dict request_id -> {{stage: (k, 8) array}}, got {type(obj).__name__}"]
    bad: dict[str, list[Any]] = {}
    for rid, stages in obj.items():
        if not isinstance(stages, dict):
            bad.setdefault(f"value is {type(stages).__name__}, expected a dict of stages", []).append(rid)
            continue
        missing = [s for s in STAGE_FLAGS if s not in stages]
        if missing:
            bad.setdefault(f"missing stage(s) {', '.join(missing)}", []).append(rid)
        for s, arr in stages.items():
            if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[1] != len(STAGE_COLS):
                bad.setdefault(f"stage {s}: shape {getattr(arr, 'shape', None)}, expected (k, {len(STAGE_COLS)})",
                               []).append(rid)
            elif len(arr) and not np.issubdtype(arr.dtype, np.integer):
                bad.setdefault(f"stage {s}: dtype {arr.dtype}, expected int64", []).append(rid)
            else:
                msg = _out_of_range(arr, STAGE_FIELDS, id_cnt)
                if msg:
                    bad.setdefault(f"stage {s}: {msg}", []).append(rid)
    return [f"{path}: key {ids[0]}: {msg} ({len(ids)} keys)" for msg, ids in bad.items()]


def _id_cnt(others: Path) -> tuple[dict[str, int] | None, list[str]]:
    path = others / "id_cnt.pkl"
    if not path.exists():
        return None, [f"{path}: missing"] if others.is_dir() else []
    id_cnt, problems = _load_pickle(path)
    if not isinstance(id_cnt, dict):
        return None, problems or [f"{path}: expected a dict field -> number of IDs, got {type(id_cnt).__name__}"]
    missing = [k for k in ID_CNT_KEYS if k not in id_cnt]
    return id_cnt, [f"{path}: key(s) {', '.join(map(repr, missing))} missing"] if missing else []


def _request_ids(path: Path) -> np.ndarray:
    import pyarrow.feather as feather

    try:
        return np.unique(feather.read_table(path, columns=["request_id"]).column("request_id").to_numpy())
    except Exception:  # noqa: BLE001 - the table's own check names what is wrong with it
        return np.zeros(0, dtype=np.int64)


def _without_history(table: Path, seq: Path, keys: set[int]) -> list[str]:
    """A line when requests of ``table`` have no history in ``seq`` (``keys``: its request IDs)."""
    missing = [int(r) for r in _request_ids(table) if int(r) not in keys]
    return [f"{seq}: request_id {missing[0]} of {table.name}: no history ({len(missing)} request(s) lack one)"] \
        if missing else []


def check_day(root: Path, day: str, id_cnt: dict[str, int] | None, needs: Needs) -> tuple[list[str], set[int]]:
    """A day's files as ``needs`` says (all_stage always, realshow on the test day or in a full check) and the
    request IDs its history file holds."""
    problems = check_table(root / DIRS["all_stage"] / f"{day}.feather", id_cnt)
    keys: set[int] = set()
    subs = [("realshow", "feather")] if needs.realshow else []
    for sub, ext in (*subs, *((p, "pkl") for p in needs.pickles)):
        path = root / DIRS[sub] / f"{day}.{ext}"
        if not path.exists():
            problems.append(f"{path}: missing (all_stage has this day)")
        elif sub == "realshow":
            problems += check_table(path, id_cnt, exposures=True)
        elif sub == "seq":
            problems += check_sequences(path, id_cnt, keys)
            problems += _without_history(root / DIRS["all_stage"] / f"{day}.feather", path, keys)
        else:
            problems += check_stage_dict(path, id_cnt)
    return problems, keys


def check_others(root: Path, id_cnt: dict[str, int] | None, needs: Needs, days: list[str],
                 test_keys: set[int] | None) -> list[str]:
    """Test tables (with the columns the released evaluation reads, every request with a history on the test
    day) and the exposed corpus."""
    others, problems = root / DIRS["others"], []
    if not others.is_dir():
        return problems
    for kind in needs.tests:
        found = [others / n for n in dict.fromkeys(TEST_FILES[kind]) if (others / n).exists()]
        if not found:
            problems.append(f"{others}: no {kind} test table ({' or '.join(dict.fromkeys(TEST_FILES[kind]))})")
        for path in found[:1]:  # the one the loaders read: the README's spelling first
            table_problems = check_table(path, id_cnt, required=TEST_COLUMNS[kind], exposures=kind == "retrieval")
            problems += table_problems
            if test_keys is not None and not table_problems:
                problems += _without_history(path, root / DIRS["seq"] / f"{days[-1]}.pkl", test_keys)
    if needs.corpus:
        infos = [others / "realshow_video_info.feather", *(others / "realshow_video_info_daily" / f"{d}.feather"
                                                          for d in (days[:-1] if needs.train else []))]
        for info in infos:
            problems += check_table(info, id_cnt, expect=VIDEO_INFO_COLS, required=VIDEO_ITEM) if info.exists() \
                else [f"{info}: missing"]
    return problems


def validate(root: Path, *, max_days: int | None = None, needs: Needs | None = None) -> list[str]:
    """Every problem found under ``root`` (empty: the folder matches the release's layout); ``needs`` narrows
    the check to what one command reads."""
    root, needs = Path(root), needs or Needs()
    problems = [f"{root / d}: folder missing" for d in DIRS.values() if not (root / d).is_dir()]
    id_cnt, p = _id_cnt(root / DIRS["others"])
    problems += p
    days = sorted(p.stem for p in (root / DIRS["all_stage"]).glob("*.feather"))[:max_days]
    if (root / DIRS["all_stage"]).is_dir() and not days:
        problems.append(f"{root / DIRS['all_stage']}: no day files (YYYY-MM-DD.feather)")
        return problems
    test_keys = None
    for i, day in enumerate(days):
        last = i == len(days) - 1
        if not (last or needs.train):
            continue
        p, keys = check_day(root, day, id_cnt, needs if last else Needs(pickles=needs.pickles, realshow=False))
        problems += p
        if last and "seq" in needs.pickles:
            test_keys = keys
    return problems + check_others(root, id_cnt, needs, days, test_keys)


def check_inputs(root: Path, needs: Needs) -> None:
    """Raise one DataError line for the first problem in what a command reads (with how many there are)."""
    problems = validate(root, needs=needs)
    if problems:
        more = f" (and {len(problems) - 1} more: `labkit recflow validate {root}` lists them)" \
            if len(problems) > 1 else ""
        raise DataError(problems[0] + more)
