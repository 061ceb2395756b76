"""core.records: JSON arrays and JSON lines read with the line each record starts on; every defect is a
DataError naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.core.errors import DataError
from labkit.core.records import json_array_with_lines, jsonl_with_lines, read_text


def test_records_keep_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[\n  {"a": 1},\n\n  {"a": 2,\n   "b": [1, 2]}\n]\n')
    assert json_array_with_lines(path) == [(2, {"a": 1}), (4, {"a": 2, "b": [1, 2]})]
    lines = tmp_path / "a.jsonl"
    lines.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert jsonl_with_lines(lines) == [(1, {"a": 1}), (3, {"a": 2})]


@pytest.mark.parametrize(("text", "reader", "message"), [
    ('{"a": 1}\n{"a": 1, "b": 2, "a": 3}\n', jsonl_with_lines, r"x:2, field 'a': given twice in one record"),
    ('[{"a": 1},\n {"b": {"c": 1, "c": 2}}]', json_array_with_lines, r"x:2, field 'c': given twice in one record"),
    ('{"a": 1}\n{"a": \n', jsonl_with_lines, r"x:2: not JSON"),
    ("[" * 100_000, json_array_with_lines, r"x:1: not JSON \(nested too deeply\)"),
    ('{"a": ' * 100_000, jsonl_with_lines, r"x:1: not JSON \(nested too deeply\)"),
    ('[{"a": 1}', json_array_with_lines, r"x:1: the JSON array is not closed"),
])
def test_defects_name_file_and_line(tmp_path: Path, text: str, reader, message: str) -> None:
    path = tmp_path / "x"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        reader(path)


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes('{"a": "é"}'.encode("utf-16"))
    with pytest.raises(DataError, match=r"x: not UTF-8 text \(byte 0"):
        read_text(path)
    path.write_bytes('\ufeff{"a": 1}\n'.encode())
    assert jsonl_with_lines(path) == [(1, {"a": 1})]


def test_read_numpy_reads_npy_and_npz_and_names_a_corrupt_file(tmp_path: Path) -> None:
    import numpy as np

    from labkit.core.records import read_numpy

    np.save(tmp_path / "a.npy", np.arange(3.0))
    np.savez(tmp_path / "b.npz", x=np.ones(2), y=np.zeros(1))
    assert read_numpy(tmp_path / "a.npy").tolist() == [0.0, 1.0, 2.0]
    assert {k: v.tolist() for k, v in read_numpy(tmp_path / "b.npz").items()} == {"x": [1.0, 1.0], "y": [0.0]}
    (tmp_path / "c.npz").write_bytes((tmp_path / "b.npz").read_bytes()[:-40])
    for name in ("c.npz", "missing.npy"):
        with pytest.raises(DataError, match=rf"{name}: (not a readable \.npz file|file not found)"):
            read_numpy(tmp_path / name)


def test_json_lines_split_at_newlines_only_and_name_a_bad_line(tmp_path) -> None:
    from labkit.core.records import iter_jsonl, jsonl_with_lines

    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"text": "a\xe2\x80\xa8b"}\r\n\n{"text": "c\\u2029"}\n')  # U+2028 raw inside a JSON string
    assert jsonl_with_lines(path) == [(1, {"text": "a\u2028b"}), (3, {"text": "c\u2029"})]
    path.write_bytes(b'{"a": 1}\n{"a": 2, "a": 3}\n')
    with pytest.raises(DataError, match=r"r\.jsonl:2"):
        jsonl_with_lines(path)
    path.write_bytes(b'{"a": 1}\n\xff\xfe{"a": 2}\n')
    rows = iter_jsonl(path)
    assert next(rows) == (1, {"a": 1})  # streamed: the first record arrives before the bad line is read
    with pytest.raises(DataError, match=r"r\.jsonl:2: not UTF-8"):
        next(rows)
