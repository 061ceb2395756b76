"""Readers of data files that keep every record's line.

Reading data files - text, numpy arrays, one JSON document - and JSON-array and JSON-lines files keeping, for
every record, the line it starts on, so a bad record's error can name ``file:line`` (Agent-SafetyBench cases and
behaviour records, CharacterBench files, MAPS datasets).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError


def read_text(path: Path | str) -> str:
    """A data file's text (UTF-8, a BOM dropped); a binary or non-UTF-8 file is a DataError naming it."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise DataError("is a folder, not a file", path=str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start}: binary or another encoding)", path=str(path)) from None


def read_numpy(path: Path | str) -> Any:
    """A ``.npy`` file's array or a ``.npz`` file's arrays.

    A ``.npy`` file's array, or a ``.npz`` file's arrays as a dict (all read now, so a corrupt member fails
    here); a file numpy cannot read is a DataError naming it.
    """
    import numpy as np

    try:
        with open(path, "rb") as fh:
            loaded = np.load(fh, allow_pickle=False)
            if isinstance(loaded, np.ndarray):
                return loaded
            with loaded as archive:
                return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - numpy/zipfile raise ValueError, OSError, BadZipFile, TokenError...
        raise DataError(f"not a readable {Path(path).suffix} file ({type(exc).__name__}: {exc})",
                        path=str(path)) from None


def text_stream(path: Path | str) -> io.StringIO:
    """``read_text`` as a file object, for csv readers (newlines kept as they are)."""
    return io.StringIO(read_text(path), newline="")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing a key given twice in one object (``json`` keeps the last one silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def csv_records_with_lines(path: Path | str, delimiter: str = ",") -> list[tuple[int, dict[str, str | None]]]:
    """``(line, row)`` pairs of a CSV/TSV file with a header row.

    ``(line the row ends on, row)`` of a CSV/TSV file with a header row (csv.DictReader's reading); a file
    the csv module cannot read (a NUL byte, an unclosed quote at the end) is a DataError naming the line.
    """
    import csv

    reader = csv.DictReader(text_stream(path), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise DataError(f"not {'TSV' if delimiter == chr(9) else 'CSV'} ({exc})", path=str(path),
                        line=reader.line_num) from None


def read_json(path: Path | str, want: type | None = None) -> Any:
    """One JSON document, read strictly.

    One JSON document (a key twice in one object is an error; NaN/Infinity are not JSON); a file that is
    not one - or not a ``want`` (dict, list) - is a DataError naming it and the line.
    """
    text = read_text(path)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DataError(f"not JSON ({exc.msg})", path=str(path), line=exc.lineno) from None
    except _DuplicateKey as exc:
        raise DataError("given twice in one object", path=str(path), field=str(exc)) from None
    except _Constant as exc:
        raise DataError(f"{exc} is not a JSON number", path=str(path)) from None
    except RecursionError:
        raise DataError("not JSON (nested too deeply)", path=str(path)) from None
    if want is not None and not isinstance(value, want):
        raise DataError(f"expected a JSON {'object' if want is dict else 'array' if want is list else want.__name__}"
                        f", got {type(value).__name__}", path=str(path), line=1)
    return value


class _Constant(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def json_array_with_lines(path: Path) -> list[tuple[int, Any]]:
    """``(line, element)`` pairs of a JSON array.

    Parse a JSON array (a key twice in one record is an error); return ``(line where the element starts,
    element)`` pairs.
    """
    text = read_text(path)
    decoder = json.JSONDecoder(object_pairs_hook=_unique_keys)
    pos = len(text) - len(text.lstrip())
    if text[pos:pos + 1] != "[":
        raise DataError("expected a JSON array", path=str(path), line=1)
    pos += 1
    out: list[tuple[int, Any]] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise DataError("the JSON array is not closed", path=str(path), line=text.count("\n") + 1)
        if text[pos] == "]":
            return out
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DataError(f"not JSON ({exc.msg})", path=str(path), line=exc.lineno) from None
        except _DuplicateKey as exc:
            raise DataError("given twice in one record", path=str(path), line=line, field=str(exc)) from None
        except RecursionError:
            raise DataError("not JSON (nested too deeply)", path=str(path), line=line) from None
        out.append((line, value))


def iter_jsonl(path: Path | str) -> Iterator[tuple[int, Any]]:
    """``(line, record)`` of a JSON-lines file, streamed (a corpus need not fit in memory).

    Lines are split at newlines only (U+2028 and other separators are valid inside JSON strings) and decoded one by
    one, so a bad byte, a line that is not JSON, a key given twice in one record or a record nested too deeply is a
    DataError naming the file and that line; blank lines are skipped.
    """
    try:
        fh = open(path, "rb")  # closed by the with below; the generator holds it across yields
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise DataError("is a folder, not a file", path=str(path)) from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"not UTF-8 text (byte {exc.start} of the line: binary or another encoding)",
                                path=str(path), line=lineno) from None
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line, object_pairs_hook=_unique_keys)
            except json.JSONDecodeError as exc:
                raise DataError(f"not JSON ({exc.msg})", path=str(path), line=lineno) from None
            except _DuplicateKey as exc:
                raise DataError("given twice in one record", path=str(path), line=lineno, field=str(exc)) from None
            except RecursionError:
                raise DataError("not JSON (nested too deeply)", path=str(path), line=lineno) from None


def jsonl_with_lines(path: Path) -> list[tuple[int, Any]]:
    """``(line, record)`` pairs of a JSON-lines file (``iter_jsonl``, all read)."""
    return list(iter_jsonl(path))
