"""Whole-or-nothing files and folders.

Files and folders that appear whole or not at all: a kill mid-write leaves the previous version (or nothing) and
at most this process's own temporary, never a half-written file that a later run would read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any


def temp_beside(path: Path) -> Path:
    """This process's temporary name beside ``path``, keeping its suffix.

    (``np.save`` adds ``.npy`` otherwise):
    ``runs/x/shard-00001.npy`` -> ``runs/x/.shard-00001.<pid>.tmp.npy``.
    """
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def atomic_write(path: Path, write: Callable[[Path], Any]) -> Path:
    """Write ``path`` whole through a temporary and one rename.

    ``write(tmp)`` fills a temporary beside ``path``, then one rename puts it in place; an exception in
    ``write`` removes the temporary and leaves ``path`` as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def temp_folder(folder: Path) -> Path:
    """This process's folder to build ``folder`` in before ``publish`` (removed first if a killed build left it)."""
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    return tmp


def publish(tmp: Path, folder: Path) -> Path:
    """Move a finished artifact folder into place whole.

    (a killed build leaves only its own temporary folder);
    when another process published the same artifact first, keep that one.
    """
    try:
        tmp.replace(folder)
    except OSError:
        if not folder.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
