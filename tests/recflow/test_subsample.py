"""`subsample`: a share of users written in the official layout loads exactly as the original loaded with that
share (rows, histories, stage and ubm dictionaries, test tables), validates, and a killed pass redoes only the
missing day; the Ray Data path writes the same files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labkit.recflow import data
from labkit.recflow.generate import generate
from labkit.recflow.subsample import day_files, subsample
from labkit.recflow.validate import validate


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("funnel")
    generate(root, users=60, days=3, videos=600, seed=2)
    return root


def same_table(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_subsample_loads_as_the_original_with_that_share(original, tmp_path) -> None:
    out = tmp_path / "half"
    counts = subsample(original, out, 0.5, workers=1)
    assert [c["day"] for c in counts] == data.day_names(original) and all(c["requests"] > 0 for c in counts)
    assert validate(out) == []
    for which in ("all_stage", "realshow"):
        for (d, a), (e, b) in zip(data.iter_days(original, which=which, users=0.5), data.iter_days(out, which=which),
                                  strict=True):
            assert d == e and same_table(a, b)
    day = data.day_names(original)[-1]
    (_, t), = data.iter_days(out, days=[day])
    reqs = np.unique(t["request_id"])
    full, part = data.load_histories(original, day, reqs), data.load_histories(out, day)
    assert part.keys() == full.keys() and all(np.array_equal(part[k], full[k]) for k in part)
    stages, stages_full = data.load_stage_dict(out, day), data.load_stage_dict(original, day)
    assert set(stages) == {int(r) for r in reqs}
    assert all(np.array_equal(stages[r][s], stages_full[r][s]) for r in stages for s in stages[r])
    pointed = {int(x) for h in part.values() for x in h[data.history_valid(h), 9]}
    ubm = data.load_stage_dict(out, day, "ubm")
    assert set(ubm) == pointed & set(data.load_stage_dict(original, day, "ubm"))
    for kind in ("retrieval", "coarse", "rank"):
        assert same_table(data.test_table(out, kind), data.test_table(original, kind, users=0.5))
    assert data.id_counts(out) == data.id_counts(original)


def test_a_killed_pass_redoes_only_the_missing_day(original, tmp_path) -> None:
    out = tmp_path / "third"
    subsample(original, out, 0.3, workers=1)
    first = data.day_names(original)[0]
    day_files(out, first)[3].unlink()  # killed before its request dictionary was written
    again = subsample(original, out, 0.3, workers=1)
    assert [bool(c.get("skipped")) for c in again] == [False, True, True]
    assert validate(out) == []


def test_share_is_checked(original, tmp_path) -> None:
    from labkit.core.errors import ConfigError

    with pytest.raises(ConfigError, match="share of users"):
        subsample(original, tmp_path / "x", 0.0)
    with pytest.raises(ConfigError, match="another folder"):
        subsample(original, original, 0.5)


@pytest.mark.slow
def test_ray_data_path_writes_the_same_files(original, tmp_path) -> None:
    pytest.importorskip("ray")
    plain, with_ray = tmp_path / "plain", tmp_path / "ray"
    subsample(original, plain, 0.5, workers=1)
    subsample(original, with_ray, 0.5, workers=2, ray=True)
    files = sorted(p.relative_to(plain) for p in plain.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(with_ray) for p in with_ray.rglob("*") if p.is_file())
    for (_, a), (_, b) in zip(data.iter_days(plain), data.iter_days(with_ray), strict=True):
        assert same_table(a, b)
