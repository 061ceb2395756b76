"""``labkit recflow validate``: check a RecFlow folder (generated, or downloaded from the official release)
against the layout in ``schema``. One line per problem, naming the file, the column or key, and the first row
where it happens (with how many rows share it): column names and order, integer dtypes, ms vs s timestamps,
0/1 flags, IDs within ``id_cnt``, (50, 10) history arrays left-padded with zero rows, (k, 8) stage arrays, the
test tables under either spelling."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from labkit.recflow.schema import (
    BINARY,
    COLUMNS,
    DIRS,
    ID_FIELDS,
    MS_MAX,
    MS_MIN,
    S_MAX,
    SEQ_COLS,
    SEQ_LEN,
    SEQ_VALID_COL,
    STAGE_COLS,
    STAGE_FLAGS,
    TEST_FILES,
    VIDEO_INFO_COLS,
)


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
    problems = []
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


def check_sequences(path: Path) -> list[str]:
    obj, problems = _load_pickle(path)
    if obj is None:
        return problems
    if not isinstance(obj, dict):
        return [f"{path}: expected a dict request_id -> (50, 10) array, got {type(obj).__name__}"]
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
    return [f"{path}: key {ids[0]}: {msg} ({len(ids)} keys)" for msg, ids in bad.items()]


def check_stage_dict(path: Path) -> list[str]:
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
    return [f"{path}: key {ids[0]}: {msg} ({len(ids)} keys)" for msg, ids in bad.items()]


def validate(root: Path, *, max_days: int | None = None) -> list[str]:
    """Every problem found under ``root`` (empty: the folder matches the release's layout)."""
    root = Path(root)
    problems = [f"{root / d}: folder missing" for d in DIRS.values() if not (root / d).is_dir()]
    others = root / DIRS["others"]
    id_cnt = None
    if (others / "id_cnt.pkl").exists():
        id_cnt, p = _load_pickle(others / "id_cnt.pkl")
        problems += p
        if isinstance(id_cnt, dict):
            problems += [f"{others / 'id_cnt.pkl'}: key {k!r} missing" for k in ("video_id", "photo_id")
                         if k not in id_cnt]
        else:
            id_cnt = None
    elif others.is_dir():
        problems.append(f"{others / 'id_cnt.pkl'}: missing")
    days = sorted(p.stem for p in (root / DIRS["all_stage"]).glob("*.feather"))[:max_days]
    if (root / DIRS["all_stage"]).is_dir() and not days:
        problems.append(f"{root / DIRS['all_stage']}: no day files (YYYY-MM-DD.feather)")
    for day in days:
        problems += check_table(root / DIRS["all_stage"] / f"{day}.feather", id_cnt)
        for sub, ext in (("realshow", "feather"), ("seq", "pkl"), ("requests", "pkl"), ("ubm", "pkl")):
            path = root / DIRS[sub] / f"{day}.{ext}"
            if not path.exists():
                problems.append(f"{path}: missing (all_stage has this day)")
            elif sub == "realshow":
                problems += check_table(path, id_cnt, exposures=True)
            elif sub == "seq":
                problems += check_sequences(path)
            else:
                problems += check_stage_dict(path)
    if others.is_dir():
        for kind, names in TEST_FILES.items():
            found = [others / n for n in dict.fromkeys(names) if (others / n).exists()]
            if not found:
                problems.append(f"{others}: no {kind} test table ({' or '.join(dict.fromkeys(names))})")
            for path in found:
                problems += check_table(path, id_cnt, required=["request_id", "user_id", "video_id",
                                                                 "effective_view"])
        info = others / "realshow_video_info.feather"
        if info.exists():
            problems += check_table(info, id_cnt, expect=VIDEO_INFO_COLS, required=["video_id"])
        else:
            problems.append(f"{info}: missing")
    return problems
