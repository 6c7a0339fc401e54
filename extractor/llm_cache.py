"""A disk cache of validated LLM answers, so a rerun of the same question costs nothing.

One SQLite file under ``<cache_dir>/llm-cache.sqlite3``. The key is the sha256 of the model
identity, the full system prompt (which carries the prompt version), the response schema, the
user text and the temperature; the value is the validated answer as JSON plus the usage the
original call cost. Several threads and several processes (batch workers) may share the file:
WAL journal, one connection per instance guarded by a lock, short transactions.

A cache that cannot be opened or written never fails a run: it degrades to a miss.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

CACHE_FILE = "llm-cache.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    answer TEXT NOT NULL,
    usage TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class LLMCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        except (OSError, sqlite3.Error):
            self._conn = None  # read-only or broken cache dir: run uncached

    @classmethod
    def open(cls, cache_dir: Path) -> "LLMCache":
        return cls(Path(cache_dir) / CACHE_FILE)

    @property
    def available(self) -> bool:
        return self._conn is not None

    @staticmethod
    def key(model_id: str, system: str, schema_json: str, user: str, temperature: float = 0.0) -> str:
        h = hashlib.sha256()
        # Length-prefixed parts, so ("ab", "c") and ("a", "bc") never collide.
        for part in (model_id, system, schema_json, user, repr(float(temperature))):
            data = part.encode("utf-8")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
        return h.hexdigest()

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """The stored answer JSON and original usage, or None."""
        if self._conn is None:
            return None
        try:
            with self._lock:
                row = self._conn.execute("SELECT answer, usage FROM answers WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        try:
            usage = json.loads(row[1])
        except ValueError:
            usage = {}
        return row[0], usage if isinstance(usage, dict) else {}

    def put(self, key: str, model_id: str, answer_json: str, usage: dict[str, Any]) -> None:
        if self._conn is None:
            return
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT OR REPLACE INTO answers (key, model, answer, usage, created) VALUES (?, ?, ?, ?, ?)",
                    (key, model_id, answer_json, json.dumps(usage), time.time()),
                )
        except sqlite3.Error:
            pass

    def __len__(self) -> int:
        if self._conn is None:
            return 0
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def clear(self) -> None:
        if self._conn is None:
            return
        with self._lock:
            self._conn.execute("DELETE FROM answers")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
