"""Mutation fuzzing of the loaders through the CLI (issue #29).

Start from a valid file, mutate it with hypothesis - truncation at a random offset, bit flips, inserted or
deleted bytes, an empty file, text re-encoded as UTF-16 or Latin-1, a number replaced by a huge one, NaN or inf,
a line duplicated or dropped - run the command in-process and check the property every command owes its user:

- exit 0 (the mutation was still a valid file, read correctly), or
- exit 2 with exactly one ``error:`` line that names the file (3 for a simulation that is not ok), and
- never an internal exception (exit 1), never a traceback, never a run folder left behind by a failed start.

``Tally`` counts the outcomes per loader; the tests print it (``pytest -s``) so a run says how many mutations each
loader took. Profiles (tests/conftest.py): ``ci`` (the default, a few dozen examples per loader) and ``deep``
(``pytest --hypothesis-profile=deep`` or ``HYPOTHESIS_PROFILE=deep``); ``examples(n)`` scales a test's own budget
with the profile.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from labkit.core.errors import DataError


def examples(n: int) -> settings:
    """``n`` mutations under the ``ci`` profile (30 examples), scaled with the active profile (``deep``: x33), so a
    slow loader's smaller budget still grows in a deep run."""
    return settings(max_examples=max(n, settings().max_examples * n // 30))


NUMBER = re.compile(rb"(?<![\w.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


@st.composite
def mutations(draw: st.DrawFn, data: bytes) -> tuple[str, bytes]:
    """(kind, mutated bytes) of ``data``."""
    n = max(len(data), 1)
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "empty", "utf16", "latin1", "number",
                                 "duplicate_line", "drop_line"]))
    at = draw(st.integers(0, n - 1))
    if kind == "truncate":
        return kind, data[:at]
    if kind == "flip":
        bits = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 7)), min_size=1, max_size=8))
        out = bytearray(data)
        for pos, bit in bits:
            if pos < len(out):
                out[pos] ^= 1 << bit
        return kind, bytes(out)
    if kind == "insert":
        return kind, data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    if kind == "delete":
        return kind, data[:at] + data[at + draw(st.integers(1, 64)):]
    if kind == "empty":
        return kind, b""
    if kind in ("utf16", "latin1"):
        text = data.decode("utf-8", errors="replace") + draw(st.sampled_from(["", " é", " ü°"]))
        return kind, text.encode("utf-16" if kind == "utf16" else "latin-1", errors="replace")
    if kind == "number":
        found = list(NUMBER.finditer(data))
        if not found:
            return kind, data
        m = found[draw(st.integers(0, len(found) - 1))]
        new = draw(st.sampled_from([b"1e308", b"-1e308", b"nan", b"inf", b"-0", b"99999999999999999999", b"0"]))
        return kind, data[:m.start()] + new + data[m.end():]
    lines = data.splitlines(keepends=True) or [b""]
    k = draw(st.integers(0, len(lines) - 1))
    if kind == "duplicate_line":
        return kind, b"".join(lines[:k + 1] + lines[k:])
    return kind, b"".join(lines[:k] + lines[k + 1:])


def run_cli(argv: list[str]) -> tuple[int, str]:
    """(exit code, stderr) of ``labkit ARGV`` in this process."""
    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main_with_errors(app, argv)
    return code, err.getvalue()


def run_folders(runs: Path) -> set[Path]:
    return {p for p in runs.glob("*/*") if p.is_dir()} if runs.exists() else set()


def fuzz_command(tally: Tally, name: str, data: bytes, argv: Callable[[Path], list[str]],
                 others: dict[str, bytes] | None = None) -> None:
    """Write ``data`` as ``<tmp>/name`` (and ``others`` beside it), run ``labkit argv(tmp)`` and check the
    outcome with ``tally`` (the error must name the file; no run folder may appear under $LABKIT_RUNS)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for other, content in (others or {}).items():
            (folder / other).parent.mkdir(parents=True, exist_ok=True)
            (folder / other).write_bytes(content)
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        runs = Path(os.environ["LABKIT_RUNS"])
        before = run_folders(runs)
        code, err = run_cli(argv(folder))
        tally.check(code, err, str(folder / name), run_folders(runs) - before)


def fuzz_loader(tally: Tally, name: str, data: bytes, load: Callable[[Path], Any],
                errors: tuple[type[Exception], ...] = (DataError,), others: dict[str, bytes] | None = None,
                folder_named: bool = False) -> Any:
    """The loader-level twin of ``fuzz_command``, for a command that would do minutes of model work per mutation
    after reading: write ``data`` as ``<tmp>/name`` (and ``others``), call ``load(path)`` - the function the command
    calls before its run folder exists - and count the outcome: one of ``errors`` is the command's exit 2 (its
    message must name the file, or with ``folder_named`` the file or its folder), anything else fails the test.
    Returns what ``load`` returned, or None when it refused."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for other, content in (others or {}).items():
            (folder / other).parent.mkdir(parents=True, exist_ok=True)
            (folder / other).write_bytes(content)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        try:
            value, code, err = load(path), 0, ""
        except errors as exc:
            value, code, err = None, 2, f"error: {exc}"
        tally.check(code, err, [str(path), str(path.parent)] if folder_named else str(path), set())
        return value


class Tally(Counter):
    """Outcomes per loader: ok, error (exit 2 naming the file), not_ok (exit 3)."""

    def check(self, code: int, err: str, named: str | list[str], new_folders: set[Path]) -> None:
        names = [named] if isinstance(named, str) else named
        assert code in (0, 2, 3), f"exit {code}: {err[-800:]}"
        assert "Traceback" not in err, err[-800:]
        if code == 2:
            lines = [line for line in err.splitlines() if line.startswith("error:")]
            assert len(lines) == 1, err
            assert any(n in lines[0] for n in names), f"the error does not name {names}: {lines[0]}"
            assert not new_folders, f"a failed start left {sorted(new_folders)}"
        self[{0: "ok", 2: "error", 3: "not_ok"}[code]] += 1

    def line(self, loader: str) -> str:
        return f"{loader}: {sum(self.values())} mutations - " + ", ".join(f"{k} {v}" for k, v in sorted(self.items()))
