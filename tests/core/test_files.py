"""Whole-or-nothing writes: an exception mid-write leaves the previous file and no temporary; a second publisher
of the same artifact keeps the first one."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.core.files import atomic_write, publish, temp_beside, temp_folder


def test_atomic_write_replaces_whole_or_leaves_the_old_file(tmp_path) -> None:
    path = tmp_path / "sub" / "scores.npy"
    atomic_write(path, lambda tmp: np.save(tmp, np.arange(3.0)))  # np.save would append .npy to a bare .tmp
    assert np.load(path).tolist() == [0.0, 1.0, 2.0]
    assert temp_beside(path).suffix == ".npy"

    def half(tmp):
        tmp.write_bytes(b"\x93NUMPY half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half)
    assert np.load(path).tolist() == [0.0, 1.0, 2.0]
    assert sorted(p.name for p in path.parent.iterdir()) == ["scores.npy"]


def test_publish_keeps_the_first_artifact(tmp_path) -> None:
    dest = tmp_path / "model"
    first = temp_folder(dest)
    first.mkdir()
    (first / "w").write_text("first")
    publish(first, dest)
    second = dest.with_name("model.tmp-other")
    second.mkdir()
    (second / "w").write_text("second")
    (second / "extra").write_text("x")
    publish(second, dest)  # a non-empty folder is in place: the second build is dropped
    assert (dest / "w").read_text() == "first" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]

