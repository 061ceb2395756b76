"""Persistent response cache: SQLite in WAL mode, safe across threads and processes.

Keys are SHA-256 hashes of a canonical JSON of everything that changes an output (see
``cache_key``); values are JSON. Each thread opens its own connection; writers wait on a busy
timeout instead of failing, so concurrent processes lose nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from labkit.core.paths import cache_dir

STATS: Counter[str] = Counter()  # process-wide "hit"/"miss" counts, printed at the end of a run


def cache_key(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``payload`` (sorted keys, no whitespace)."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def default_cache_path() -> Path:
    """The response cache's SQLite file under ``LABKIT_CACHE``."""
    return cache_dir() / "responses.sqlite"


def cache_disabled() -> bool:
    """``--no-cache`` sets LABKIT_NO_CACHE=1 for the whole process."""
    return os.environ.get("LABKIT_NO_CACHE", "") not in ("", "0")


class ResponseCache:
    """Key -> JSON value store with hit/miss counters."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        with self._conn() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
                         "value TEXT NOT NULL, tag TEXT, created REAL)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    def _count(self, kind: str) -> None:
        with self._lock:
            if kind == "hit":
                self.hits += 1
            else:
                self.misses += 1
            STATS[kind] += 1

    def get(self, key: str) -> Any | None:
        """The cached value for ``key``, or None."""
        row = self._conn().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        self._count("hit" if row else "miss")
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any, tag: str = "") -> None:
        """Store ``value`` under ``key`` (``tag`` says what made it)."""
        blob = json.dumps(value, ensure_ascii=False)
        self._conn().execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                             (key, blob, tag, time.time()))

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def stats_line(counts: Counter[str] | None = None) -> str:
    """One line for the end of a run, e.g. 'cache: 12 hits, 3 misses' (``counts``: default the process's)."""
    counts = STATS if counts is None else counts
    return f"cache: {counts['hit']} hits, {counts['miss']} misses"
