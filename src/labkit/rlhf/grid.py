"""A sweep's grid: the base point and the axes expanded into points, each with a stable id (the hash of
every setting), the axis it varies and the seed. One axis at a time by default, so every effect is
attributable and every held-fixed value is recorded; ``product`` takes every combination."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from labkit.core.config import build
from labkit.core.errors import ConfigError
from labkit.rlhf.config import PointSettings, SweepConfig


@dataclass(frozen=True)
class Point:
    id: str
    axis: str | None  # the axis this point varies (None: the base point)
    settings: PointSettings


def point_id(settings: PointSettings) -> str:
    return hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode()).hexdigest()[:16]


def expand(cfg: SweepConfig) -> list[Point]:
    """Every (setting, seed) point of the sweep, base first, without duplicates."""
    names = {f.name for f in fields(PointSettings)} - {"seed"}
    unknown = set(cfg.grid) - names
    if unknown:
        raise ConfigError(f"grid: unknown axis {', '.join(sorted(unknown))} (axes: {', '.join(sorted(names))})")
    if not cfg.seeds:
        raise ConfigError("seeds: at least one seed")
    check_grid(cfg)
    combos: list[tuple[str | None, dict[str, Any]]] = [(None, {})]
    if cfg.mode == "product":
        axes = sorted(cfg.grid)
        combos = [("+".join(axes), dict(zip(axes, values, strict=True)))
                  for values in itertools.product(*(cfg.grid[a] for a in axes))]
    else:
        base = asdict(cfg.base)
        for axis in sorted(cfg.grid):
            combos += [(axis, {axis: v}) for v in cfg.grid[axis] if v != base[axis]]
    points, seen = [], set()
    for axis, change in combos:
        for seed in cfg.seeds:
            settings = replace(cfg.base, **change, seed=seed)
            pid = point_id(settings)
            if pid not in seen:
                seen.add(pid)
                points.append(Point(pid, axis, settings))
    return points


def check_grid(cfg: SweepConfig) -> None:
    """Every value of every axis is a valid setting (type, choice, range), checked as a whole before any point
    runs: the first bad one is a ConfigError naming ``grid.<axis>[i]``."""
    base = asdict(cfg.base)
    for axis, values in cfg.grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"grid.{axis}: must be a non-empty list of values, got {values!r}")
        for i, value in enumerate(values):
            try:
                build(PointSettings, {**base, axis: value}, where="grid")
            except ConfigError as exc:
                raise ConfigError(f"grid.{axis}[{i}]: {str(exc).split(': ', 1)[-1]}") from exc
