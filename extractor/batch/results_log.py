"""results.jsonl: the batch's one durable record, appended a line at a time and fsynced.

Every file of a batch ends as exactly one line (unless a resume redoes a file whose earlier line
was a transient failure; readers then take the last line of each path). A crash can leave a cut
last line: reading tolerates it, and opening for append cuts it off first so that the next line
starts clean. The done-index that ``--resume`` consults is derived from the lines themselves, so
there is no second file that could disagree with them.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_NAME = "results.jsonl"

# Statuses a line can carry. "duplicate" lines point at the line that holds the report.
STATUS_OK = "ok"
STATUS_NOT_A_REPORT = "not_a_report"
STATUS_FAILED = "failed"
STATUS_DUPLICATE = "duplicate"

Record = dict[str, Any]


@dataclass
class LoadedResults:
    records: list[Record] = field(default_factory=list)
    # lines that did not parse before the last one (damaged storage; never written by us)
    bad_lines: int = 0
    # the last line was cut (a crash mid-write); it is ignored and the file is redone from there
    truncated_tail: bool = False
    # byte length of the file up to and including its last complete line
    good_size: int = 0


def read_results(path: Path) -> LoadedResults:
    out = LoadedResults()
    if not path.exists():
        return out
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        newline = data.find(b"\n", offset)
        complete = newline != -1
        end = newline + 1 if complete else len(data)
        raw = data[offset:end].strip()
        if raw:
            try:
                record = json.loads(raw.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError):
                if complete:
                    out.bad_lines += 1
                else:
                    out.truncated_tail = True
                record = None
            if record is not None:
                if complete:
                    out.records.append(record)
                else:
                    # A last line that parses but lacks its newline was cut exactly at the end of
                    # the JSON; rewriting it is cheaper than reasoning about whether fsync ran.
                    out.truncated_tail = True
        if complete:
            out.good_size = end
        offset = end
    return out


def is_settled(record: Record, retry_failed: bool = False) -> bool:
    """Whether ``--resume`` may skip the file of this line.

    Transient failures (an LLM that gave up, a file that could not be read at that moment) carry
    ``retryable: true`` and are redone; so is every failure with ``--retry-failed``.
    """
    status = record.get("status")
    if status in (STATUS_OK, STATUS_NOT_A_REPORT, STATUS_DUPLICATE):
        return True
    if status == STATUS_FAILED:
        return not retry_failed and not record.get("retryable", False)
    return False


class DoneIndex:
    """What is already settled, by content hash and settings: the resume and de-duplication lookups."""

    def __init__(self, retry_failed: bool = False) -> None:
        self.retry_failed = retry_failed
        # (sha256, settings_key) -> path of the line that holds the report for this content
        self._primary: dict[tuple[str, str], str] = {}
        # (path, sha256, settings_key) of every settled line, duplicates included
        self._settled: set[tuple[str, str, str]] = set()

    @classmethod
    def from_records(cls, records: list[Record], retry_failed: bool = False) -> "DoneIndex":
        index = cls(retry_failed)
        for record in records:
            index.add(record)
        return index

    def add(self, record: Record) -> None:
        sha, key, path = record.get("source_sha256"), record.get("settings_key"), record.get("source_path")
        if not sha or not key or not path:
            return
        if not is_settled(record, self.retry_failed):
            return
        self._settled.add((path, sha, key))
        if record.get("status") != STATUS_DUPLICATE:
            self._primary.setdefault((sha, key), path)

    def is_settled(self, path: str, sha256: str, settings_key: str) -> bool:
        return (path, sha256, settings_key) in self._settled

    def primary_for(self, sha256: str, settings_key: str) -> str | None:
        return self._primary.get((sha256, settings_key))

    def __len__(self) -> int:
        return len(self._settled)


class ResultsLog:
    """Append-only writer of results.jsonl; each line is on disk (flush + fsync) when ``append`` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None

    def open(self, loaded: LoadedResults | None = None) -> None:
        """Open for appending; with ``loaded`` (a resume), first cut a truncated last line off."""
        created = not self.path.exists()
        if loaded is not None and self.path.exists() and self.path.stat().st_size != loaded.good_size:
            with open(self.path, "r+b") as fh:
                fh.truncate(loaded.good_size)
                fh.flush()
                os.fsync(fh.fileno())
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if created:
            _fsync_dir(self.path.parent)

    def append(self, record: Record) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None:
                raise RuntimeError("ResultsLog is not open")
            view = memoryview(line)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "ResultsLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fsync_dir(directory: Path) -> None:
    # The new file's directory entry must survive a power cut too, not only its contents.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
