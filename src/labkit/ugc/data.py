"""Load and validate user-supplied relevance matrices, cost vectors and ratings files.

Formats read unchanged:
- relevance: users x creators, ``.npy``; ``.npz`` (array ``relevance``, or the only array, and an
  optional ``costs``); ``.csv``/``.tsv`` dense numbers, an optional header row;
- costs: one positive number per creator, ``.npy`` or a one-column/one-row CSV;
- ratings (MovieLens): CSV with header ``userId,movieId,rating[,timestamp]`` (ml-latest, ml-25m),
  ``ratings.dat`` with ``::`` (ml-1m/10m), or tab-separated ``u.data`` without header (ml-100k).
Every problem is a DataError naming the file, the line and the field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit.core.errors import DataError
from labkit.core.records import read_numpy, text_stream


def _check_finite(values: np.ndarray, path: Path, header: int = 0) -> None:
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        first = tuple(int(i) for i in bad[0])
        row, col = first[0], (first[1] if values.ndim == 2 else 0)
        text = path.suffix in (".csv", ".tsv", ".txt")
        raise DataError(f"{values[first]} is not a finite number ({len(bad)} such entries)", path=str(path),
                        line=row + 1 + header if text else None,
                        field=f"user {row}, creator {col}" if values.ndim == 2 else f"creator {row}")


def _read_csv_matrix(path: Path) -> tuple[np.ndarray, int]:
    """Dense numeric CSV; a first row that is not numeric is a header. Returns (array, header rows)."""
    delimiter = "\t" if path.suffix == ".tsv" else ","
    rows: list[list[float]] = []
    header = 0
    reader = csv.reader(text_stream(path), delimiter=delimiter)
    try:
        numbered = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise DataError(f"not CSV ({exc})", path=str(path), line=reader.line_num) from None
    for lineno, row in numbered:
        if not row or all(not cell.strip() for cell in row):
            continue
        try:
            values = [float(cell) for cell in row]
        except ValueError:
            if lineno == 1:
                header = 1
                continue
            col = next(i for i, cell in enumerate(row) if not _is_float(cell))
            raise DataError(f"{row[col]!r} is not a number", path=str(path), line=lineno,
                            field=f"column {col + 1}") from None
        if rows and len(values) != len(rows[0]):
            raise DataError(f"{len(values)} columns, expected {len(rows[0])}", path=str(path), line=lineno)
        rows.append(values)
    if not rows:
        raise DataError("no numeric rows", path=str(path))
    return np.array(rows, dtype=float), header


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(array: np.ndarray, path: Path, key: str) -> np.ndarray:
    try:
        return np.asarray(array).astype(float)
    except (TypeError, ValueError):
        raise DataError(f"array of {array.dtype} is not numeric", path=str(path), field=key) from None


def _read_array(path: Path, key: str) -> tuple[np.ndarray, int]:
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.suffix in (".npy", ".npz"):
        loaded = read_numpy(path)
        if path.suffix == ".npy" or not isinstance(loaded, dict):
            return _numbers(loaded, path, key), 0
        names = list(loaded)
        if key not in names and len(names) != 1:
            raise DataError(f"no array '{key}' (has {names})", path=str(path), field=key)
        return _numbers(loaded[key if key in names else names[0]], path, key), 0
    if path.suffix in (".csv", ".tsv", ".txt"):
        return _read_csv_matrix(path)
    raise DataError(f"unknown format '{path.suffix}' (use .npy, .npz or .csv)", path=str(path))


def load_relevance(path: str | Path) -> np.ndarray:
    """Relevance sigma as (n creators, m users), from a users x creators file."""
    path = Path(path)
    matrix, header = _read_array(path, "relevance")
    if matrix.ndim != 2:
        raise DataError(f"relevance must be a 2-D users x creators matrix, got shape {matrix.shape}",
                        path=str(path), field="relevance")
    if matrix.shape[1] < 2:
        raise DataError(f"need at least 2 creators (columns), got shape {matrix.shape}", path=str(path),
                        field="relevance")
    _check_finite(matrix, path, header)
    return np.ascontiguousarray(matrix.T)


def load_costs(path: str | Path, creators: int) -> np.ndarray:
    """Cost coefficients c_i > 0, one per creator."""
    path = Path(path)
    values, header = _read_array(path, "costs")
    values = values.reshape(-1) if values.ndim == 2 and 1 in values.shape else values
    if values.ndim != 1 or len(values) != creators:
        raise DataError(f"expected {creators} cost coefficients (one per creator), got shape {values.shape}",
                        path=str(path), field="costs")
    _check_finite(values, path, header)
    bad = np.flatnonzero(values <= 0)
    if len(bad):
        i = int(bad[0])
        raise DataError(f"cost coefficient {values[i]} must be > 0", path=str(path),
                        line=i + 1 + header if path.suffix in (".csv", ".tsv", ".txt") else None,
                        field=f"creator {i}")
    return values


@dataclass
class Ratings:
    """Explicit ratings with contiguous 0-based user and item indices."""

    users: np.ndarray  # (r,) int
    items: np.ndarray  # (r,) int
    values: np.ndarray  # (r,) float
    user_ids: np.ndarray  # original ids, index -> id
    item_ids: np.ndarray


RATING_FIELDS = ("userId", "movieId", "rating")


def load_ratings(path: str | Path) -> Ratings:
    """MovieLens ratings (see the module docstring for the three layouts)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    rows: list[tuple[str, str, float]] = []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
        sep = "::" if "::" in first else ("\t" if "\t" in first else ",")
        cells = [c.strip() for c in first.strip().split(sep)]
        if _is_float(cells[0]) if cells else False:
            columns = {"userId": 0, "movieId": 1, "rating": 2}
            fh.seek(0)
            start = 1
        else:
            missing = [f for f in RATING_FIELDS if f not in cells]
            if missing:
                raise DataError(f"header lacks {missing} (expected userId,movieId,rating[,timestamp])",
                                path=str(path), line=1, field=missing[0])
            columns = {f: cells.index(f) for f in RATING_FIELDS}
            start = 2
        for lineno, line in enumerate(fh, start):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split(sep)
            if len(parts) <= max(columns.values()):
                raise DataError(f"{len(parts)} fields, expected at least {max(columns.values()) + 1}",
                                path=str(path), line=lineno)
            raw = parts[columns["rating"]].strip()
            if not _is_float(raw) or not np.isfinite(float(raw)):
                raise DataError(f"{raw!r} is not a number", path=str(path), line=lineno, field="rating")
            rows.append((parts[columns["userId"]].strip(), parts[columns["movieId"]].strip(), float(raw)))
    if len(rows) < 2:
        raise DataError("fewer than 2 ratings", path=str(path))
    user_ids, users = np.unique([r[0] for r in rows], return_inverse=True)
    item_ids, items = np.unique([r[1] for r in rows], return_inverse=True)
    return Ratings(users.astype(np.int64), items.astype(np.int64), np.array([r[2] for r in rows]), user_ids, item_ids)
