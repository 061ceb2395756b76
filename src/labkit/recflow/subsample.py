"""A user subsample of a RecFlow folder, written in the same official layout (``labkit recflow subsample``):
the per-day preprocessing pass the full release needs before a small machine can train on it (a day of
``all_stage`` is about 12 GB; 5% of users is about 600 MB).

Users are kept by the loaders' hash (``data.keep_users`` on the file's user IDs, the same users on every day),
so ``iter_days(subsample)`` equals ``iter_days(original, users=share)``. Per day: the ``all_stage`` and
``realshow`` rows of kept users; the history and stage dictionaries of their requests; the ``ubm`` entries of
the past requests their histories point to; the day's video info as it is. ``others/``: ``id_cnt.pkl`` and the
video info copied (ID ranges stay those of the release), test tables filtered the same way.

Days are independent: they run in worker processes, or as a Ray Data pipeline (``ray=True``: one row per day,
``map`` over the cluster, ``LABKIT_RAY_ADDRESS`` for an existing one). Every file is written through a temporary
name and a rename; a day whose files all exist is skipped, so a killed pass resumes.
"""

from __future__ import annotations

import pickle
import shutil
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import DataError
from labkit.core.files import atomic_write
from labkit.recflow.data import day_names, history_valid, keep_users, load_pickle
from labkit.recflow.schema import DIRS, SEQ_COLS, TEST_FILES

REQUEST_COL = SEQ_COLS.index("request_id")


def _filter_feather(src: Path, dst: Path, share: float, seed: int) -> Any:
    """Rows of kept users, columns and dtypes as they were; returns the kept table (pyarrow)."""
    import pyarrow.feather as feather

    t = _reading(src, feather.read_table)
    if "user_id" not in t.column_names:
        raise DataError(f"{src}: no user_id column")
    kept = t.filter(keep_users(t.column("user_id").to_numpy(), share, seed))
    atomic_write(dst, lambda p: feather.write_feather(kept, p, compression="zstd"))
    return kept


def _reading(path: Path, read: Any) -> Any:
    """``read(path)``; a file the reader cannot parse is a DataError naming it (a day fails with its file)."""
    try:
        return read(path)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow and pickle raise many kinds on a torn or foreign file
        raise DataError(f"{path}: not readable ({type(exc).__name__}: {str(exc)[:200]})") from None


def _dump(obj: Any, path: Path) -> None:
    def write(p: Path) -> None:
        with open(p, "wb") as f:
            pickle.dump(obj, f, protocol=4)

    atomic_write(path, write)


def day_files(root: Path, day: str) -> list[Path]:
    root = Path(root)
    return [root / DIRS["all_stage"] / f"{day}.feather", root / DIRS["realshow"] / f"{day}.feather",
            root / DIRS["seq"] / f"{day}.pkl", root / DIRS["requests"] / f"{day}.pkl",
            root / DIRS["ubm"] / f"{day}.pkl"]


def subsample_day(day: str, *, root: Path, out: Path, share: float, seed: int) -> dict[str, Any]:
    """One day of ``root`` into ``out``; returns row and request counts (or ``skipped`` when already done)."""
    src, dst = day_files(root, day), day_files(out, day)
    if all(p.exists() for p in dst):
        return {"day": day, "skipped": 1}
    try:
        return _subsample_day(day, src, dst, root=Path(root), out=Path(out), share=share, seed=seed)
    except (DataError, OSError):
        raise
    except Exception as exc:  # noqa: BLE001 - a file that reads but holds other than the layout's fields
        raise DataError(f"{root}: day {day} does not match the layout ({type(exc).__name__}: {str(exc)[:200]}; "
                        f"`labkit recflow validate {root}` names the file)") from None


def _subsample_day(day: str, src: list[Path], dst: list[Path], *, root: Path, out: Path, share: float,
                   seed: int) -> dict[str, Any]:
    requests = np.unique(_filter_feather(src[0], dst[0], share, seed).column("request_id").to_numpy())
    _filter_feather(src[1], dst[1], share, seed)
    wanted = {int(r) for r in requests}
    seq = {k: v for k, v in _reading(src[2], load_pickle).items() if int(k) in wanted}
    pointed = {int(r) for h in seq.values() for r in np.asarray(h)[history_valid(np.asarray(h)), REQUEST_COL]}
    stages = {k: v for k, v in _reading(src[3], load_pickle).items() if int(k) in wanted}
    ubm = {k: v for k, v in _reading(src[4], load_pickle).items() if int(k) in pointed}
    _dump(seq, dst[2])
    _dump(stages, dst[3])
    _dump(ubm, dst[4])
    info = Path(root) / DIRS["others"] / "realshow_video_info_daily" / f"{day}.feather"
    if info.exists():
        dest = Path(out) / DIRS["others"] / "realshow_video_info_daily" / info.name
        atomic_write(dest, partial(shutil.copyfile, info))
    return {"day": day, "requests": len(requests), "histories": len(seq), "ubm": len(ubm)}


def _others(root: Path, out: Path, share: float, seed: int) -> None:
    src, dst = Path(root) / DIRS["others"], Path(out) / DIRS["others"]
    for name in ("id_cnt.pkl", "realshow_video_info.feather"):
        if (src / name).exists():
            atomic_write(dst / name, partial(shutil.copyfile, src / name))
    for name in dict.fromkeys(n for names in TEST_FILES.values() for n in names):
        if (src / name).exists():
            _filter_feather(src / name, dst / name, share, seed)
    truth = Path(root) / "_hidden" / "truth.npz"  # a generated folder's hidden truth (not user-dependent)
    if truth.exists():
        atomic_write(Path(out) / "_hidden" / truth.name, partial(shutil.copyfile, truth))


def _ray_days(days: list[str], fn: Any, workers: int) -> list[dict[str, Any]]:
    from labkit.core.parallel import ray_init

    ray = ray_init()
    ds = ray.data.from_items([{"day": d} for d in days])
    rows = ds.map(lambda row: {**fn(row["day"]), "day": row["day"]}, concurrency=workers).take_all()
    return sorted(rows, key=lambda r: r["day"])


def subsample(root: Path, out: Path, share: float, *, seed: int = 0, workers: int = 2, ray: bool = False,
              days: list[str] | None = None) -> list[dict[str, Any]]:
    """Write the subsample of ``root`` to ``out``; one count record per day, in date order."""
    from labkit.core.errors import ConfigError
    from labkit.core.parallel import parallel_map
    from labkit.recflow.validate import Needs, check_inputs

    if not 0 < share <= 1:
        raise ConfigError(f"the share of users must be in (0, 1], got {share}")
    if Path(out).resolve() == Path(root).resolve():
        raise ConfigError(f"{out}: the subsample must go to another folder than {root}")
    check_inputs(root, Needs(train=False))  # layout, id_cnt, test tables, the test day: before writing
    days = days or day_names(root)
    _others(root, out, share, seed)
    fn = partial(subsample_day, root=Path(root), out=Path(out), share=share, seed=seed)
    if ray:
        return _ray_days(days, fn, workers)
    done = parallel_map(fn, days, workers=workers, backend="process" if workers > 1 else "thread",
                        desc="subsample days")
    failed = [o for o in done if not o.ok]
    if failed:
        raise DataError(f"{len(failed)} day(s) failed; first: {failed[0].item}: {failed[0].error} (finished days "
                        "are kept: re-run to retry the others)")
    return [o.value for o in done]
