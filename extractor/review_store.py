"""The review store: reviewed (confirmed) reports, every edit and who made it, in SQLite.

One record per source text (keyed by its sha256). Confirming writes the confirmed report, the findings
at that moment and every edit the reviewer made, and bumps the record's ``version``. A reviewer confirms
*against* the version they started from; if someone else confirmed in between, ``confirm`` raises
``ConflictError`` instead of overwriting their work (optimistic concurrency).

The files made from these records (JSON, CSV, XLSX, eval gold) are written by ``extractor.exports``.

The schema grows only by appending functions to ``MIGRATIONS`` (the pattern of simonw/llm's
``migrations.py``): each runs once, in order, and is recorded in ``_nianbao_migrations``.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.errors import NianbaoError
from extractor.schema import CellValue, Report, iter_cells, report_from_record


class ConflictError(NianbaoError):
    """Someone confirmed the same report after this review started; nothing was written."""

    exit_code = 6

    def __init__(self, message: str, *, current_version: int, expected_version: int,
                 current_reviewer: str | None, current_confirmed_at: str | None, hint_zh: str | None = None) -> None:
        super().__init__(message, hint="reopen the latest record, re-apply your edits and confirm again", hint_zh=hint_zh)
        self.current_version = current_version
        self.expected_version = expected_version
        self.current_reviewer = current_reviewer
        self.current_confirmed_at = current_confirmed_at


class RecordNotFoundError(NianbaoError):
    exit_code = 2


@dataclass(frozen=True)
class CellEdit:
    """One change a reviewer made to one cell, in the order made (a value set and set back is two edits)."""

    path: str
    before: CellValue
    after: CellValue
    who: str | None = None
    at: str = field(default_factory=lambda: now_iso())


@dataclass(frozen=True)
class BatchOrigin:
    """The batch line a confirmation came from: results.jsonl's ``source_path`` and ``source_sha256`` (of the
    file's bytes). A batch re-run over the same file finds the confirmed work again by these bytes, whatever
    the new reading says and even where an ingest fix changed the text the record is keyed by."""

    source_path: str
    file_sha256: str


# How a confirmation was made: a person on the review screen, or the queue's bulk confirmation of reports
# without doubt (kept apart so progress can say how many a person actually looked at).
CONFIRMED_ON_SCREEN = "review"
CONFIRMED_IN_BULK = "bulk"


@dataclass(frozen=True)
class ConfirmedWork:
    """The confirmed record that holds a batch line's reviewed report, and its latest confirmation."""

    record_id: int
    version: int
    reviewer: str
    confirmed_at: str
    via: str  # CONFIRMED_ON_SCREEN or CONFIRMED_IN_BULK
    matched_by: str  # "file": a confirmation made from this file's bytes; "text": the same text confirmed elsewhere


@dataclass(frozen=True)
class StoredEdit:
    record_id: int
    version: int
    seq: int
    path: str
    before: CellValue
    after: CellValue
    who: str | None
    at: str


@dataclass(frozen=True)
class StoredRecord:
    id: int
    version: int
    source_sha256: str
    source_name: str | None
    source_format: str | None
    source_text: str
    engine: str | None
    machine: dict[str, Any]  # the machine extraction as ExtractionResult.to_dict() gave it
    confirmed: dict[str, Any]  # canonical JSON of the confirmed report
    findings: list[dict[str, Any]]  # findings at confirmation
    evidence: dict[str, Any]
    reviewer: str
    confirmed_at: str
    created_at: str

    @property
    def report(self) -> Report:
        return Report.model_validate(self.confirmed)


@dataclass(frozen=True)
class RecordSummary:
    id: int
    version: int
    source_sha256: str
    source_name: str | None
    agency: str | None
    year: int | None
    template: str | None
    reviewer: str
    confirmed_at: str
    n_edits: int
    n_findings: int


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


# ---- migrations: append only; never edit or reorder one that has shipped
Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            source_sha256 TEXT NOT NULL UNIQUE,
            source_name TEXT,
            source_format TEXT,
            source_text TEXT NOT NULL,
            engine TEXT,
            machine_json TEXT NOT NULL,
            confirmed_json TEXT NOT NULL,
            findings_json TEXT NOT NULL,
            evidence_json TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            confirmed_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            version INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE edits (
            id INTEGER PRIMARY KEY,
            record_id INTEGER NOT NULL REFERENCES records(id),
            version INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            cell_path TEXT NOT NULL,
            before_json TEXT,
            after_json TEXT,
            who TEXT,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX edits_record ON edits(record_id, version, seq)")


@migration
def m002_confirmations(db: sqlite3.Connection) -> None:
    # Every confirmation, not just the latest: the audit trail of who confirmed what report, when.
    db.execute(
        """
        CREATE TABLE confirmations (
            id INTEGER PRIMARY KEY,
            record_id INTEGER NOT NULL REFERENCES records(id),
            version INTEGER NOT NULL,
            reviewer TEXT NOT NULL,
            confirmed_at TEXT NOT NULL,
            report_json TEXT NOT NULL,
            findings_json TEXT NOT NULL,
            UNIQUE(record_id, version)
        )
        """
    )


@migration
def m003_batch_origin(db: sqlite3.Connection) -> None:
    # A confirmation made from a batch queue names the batch line (file path + sha256 of its bytes) it came
    # from, and whether a person confirmed it on the review screen or in bulk.
    db.execute("ALTER TABLE confirmations ADD COLUMN batch_source_path TEXT")
    db.execute("ALTER TABLE confirmations ADD COLUMN batch_file_sha256 TEXT")
    db.execute("ALTER TABLE confirmations ADD COLUMN via TEXT")
    db.execute("CREATE INDEX confirmations_batch_file ON confirmations(batch_file_sha256)")


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet applied; return their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _nianbao_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _nianbao_migrations")}
    applied: list[str] = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            # another process may have applied it while we waited for the lock
            if db.execute("SELECT 1 FROM _nianbao_migrations WHERE name = ?", (fn.__name__,)).fetchone():
                db.execute("COMMIT")
                continue
            fn(db)
            db.execute("INSERT INTO _nianbao_migrations (name, applied_at) VALUES (?, ?)", (fn.__name__, now_iso()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(fn.__name__)
    return applied


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class ReviewStore:
    """The confirmed-records database. Opens a short-lived connection per call (safe across threads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            migrate(db)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # autocommit mode; transactions are explicit BEGIN IMMEDIATE where they matter
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        try:
            yield db
        finally:
            db.close()

    # ---- writing
    def confirm(
        self,
        *,
        source_text: str,
        source_sha256: str,
        report: Report,
        findings: list[dict[str, Any]],
        evidence: dict[str, Any],
        machine: dict[str, Any],
        edits: Iterable[CellEdit],
        reviewer: str,
        expected_version: int,
        source_name: str | None = None,
        source_format: str | None = None,
        engine: str | None = None,
        origin: BatchOrigin | None = None,
        via: str = CONFIRMED_ON_SCREEN,
    ) -> StoredRecord:
        """Save a confirmation. ``expected_version`` is the record's version when this review began
        (0 when there was no record). Raises ``ConflictError`` if it is no longer current. ``origin`` ties
        the confirmation to the batch line it was reviewed from."""
        reviewer = reviewer.strip()
        if not reviewer:
            raise NianbaoError("a reviewer name is required to confirm", hint_zh="请填写审核人姓名后再确认")
        at = now_iso()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # takes the write lock now, so read-check-write is atomic
            try:
                row = db.execute(
                    "SELECT id, version, reviewer, confirmed_at FROM records WHERE source_sha256 = ?", (source_sha256,)
                ).fetchone()
                current = 0 if row is None else int(row["version"])
                if current != expected_version:
                    raise _conflict(current, expected_version, row["reviewer"] if row else None,
                                    row["confirmed_at"] if row else None)
                version = current + 1
                values = (
                    source_name, source_format, source_text, engine, _dumps(machine), _dumps(report.canonical()),
                    _dumps(findings), _dumps(evidence), reviewer, at, version,
                )
                if row is None:
                    cur = db.execute(
                        """INSERT INTO records (source_name, source_format, source_text, engine, machine_json,
                               confirmed_json, findings_json, evidence_json, reviewer, confirmed_at, version,
                               source_sha256, created_at)
                           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                        (*values, source_sha256, at),
                    )
                    record_id = int(cur.lastrowid or 0)
                else:
                    record_id = int(row["id"])
                    db.execute(
                        """UPDATE records SET source_name=?, source_format=?, source_text=?, engine=?, machine_json=?,
                               confirmed_json=?, findings_json=?, evidence_json=?, reviewer=?, confirmed_at=?, version=?
                           WHERE id=?""",
                        (*values, record_id),
                    )
                for seq, edit in enumerate(edits, start=1):
                    db.execute(
                        "INSERT INTO edits (record_id, version, seq, cell_path, before_json, after_json, who, at)"
                        " VALUES (?,?,?,?,?,?,?,?)",
                        (record_id, version, seq, edit.path, _dumps(edit.before), _dumps(edit.after),
                         edit.who or reviewer, edit.at),
                    )
                db.execute(
                    "INSERT INTO confirmations (record_id, version, reviewer, confirmed_at, report_json, findings_json,"
                    " batch_source_path, batch_file_sha256, via) VALUES (?,?,?,?,?,?,?,?,?)",
                    (record_id, version, reviewer, at, _dumps(report.canonical()), _dumps(findings),
                     origin.source_path if origin else None, origin.file_sha256 if origin else None, via),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.get(record_id)

    # ---- reading
    def current_version(self, source_sha256: str) -> int:
        with self._connect() as db:
            row = db.execute("SELECT version FROM records WHERE source_sha256 = ?", (source_sha256,)).fetchone()
        return 0 if row is None else int(row[0])

    def get(self, record_id: int) -> StoredRecord:
        with self._connect() as db:
            row = db.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise RecordNotFoundError(f"no record {record_id}", hint_zh=f"没有编号为 {record_id} 的记录")
        return _record(row)

    def find_by_sha256(self, source_sha256: str) -> StoredRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM records WHERE source_sha256 = ?", (source_sha256,)).fetchone()
        return None if row is None else _record(row)

    def confirmed_work(self, lines: Iterable[tuple[str, str | None]]) -> dict[str, ConfirmedWork]:
        """For batch lines given as (file sha256, text sha256): the record that holds each one's confirmed
        work, keyed by file sha256. A confirmation made from the same file's bytes wins (it survives a
        re-run batch whose reading or text changed); else a record of the same text (confirmed from a paste,
        or from a copy of the file in other bytes). Lines with neither are absent."""
        pairs = list(lines)
        by_file: dict[str, int] = {}
        by_text: dict[str, int] = {}
        rows: dict[int, sqlite3.Row] = {}
        with self._connect() as db:
            for chunk in _chunks(sorted({f for f, _t in pairs if f})):
                marks = ",".join("?" * len(chunk))
                # the latest confirmation made from each file names its record
                for row in db.execute(
                    f"""SELECT batch_file_sha256, record_id FROM confirmations c
                        WHERE batch_file_sha256 IN ({marks})
                          AND id = (SELECT MAX(id) FROM confirmations WHERE batch_file_sha256 = c.batch_file_sha256)""",
                    chunk,
                ):
                    by_file[row[0]] = int(row[1])
            for chunk in _chunks(sorted({t for _f, t in pairs if t})):
                marks = ",".join("?" * len(chunk))
                for row in db.execute(f"SELECT source_sha256, id FROM records WHERE source_sha256 IN ({marks})", chunk):
                    by_text[row[0]] = int(row[1])
            ids = sorted({*by_file.values(), *by_text.values()})
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                for row in db.execute(
                    f"""SELECT r.id, r.version, r.reviewer, r.confirmed_at,
                               (SELECT via FROM confirmations c WHERE c.record_id = r.id AND c.version = r.version) AS via
                        FROM records r WHERE r.id IN ({marks})""",
                    chunk,
                ):
                    rows[int(row["id"])] = row
        out: dict[str, ConfirmedWork] = {}
        for file_sha, text_sha in pairs:
            if file_sha in by_file:
                record_id, matched = by_file[file_sha], "file"
            elif text_sha and text_sha in by_text:
                record_id, matched = by_text[text_sha], "text"
            else:
                continue
            row = rows[record_id]
            out[file_sha] = ConfirmedWork(
                record_id=record_id, version=int(row["version"]), reviewer=row["reviewer"],
                confirmed_at=row["confirmed_at"], via=row["via"] or CONFIRMED_ON_SCREEN, matched_by=matched)
        return out

    def list_records(self, limit: int = 500) -> list[RecordSummary]:
        with self._connect() as db:
            rows = db.execute(
                """SELECT r.*, (SELECT COUNT(*) FROM edits e WHERE e.record_id = r.id) AS n_edits
                   FROM records r ORDER BY r.confirmed_at DESC, r.id DESC LIMIT ?""",
                (limit,),
            ).fetchall()
        out: list[RecordSummary] = []
        for row in rows:
            confirmed = json.loads(row["confirmed_json"])
            out.append(RecordSummary(
                id=int(row["id"]), version=int(row["version"]), source_sha256=row["source_sha256"],
                source_name=row["source_name"], agency=confirmed.get("agency"), year=confirmed.get("year"),
                template=confirmed.get("template"), reviewer=row["reviewer"], confirmed_at=row["confirmed_at"],
                n_edits=int(row["n_edits"]), n_findings=len(json.loads(row["findings_json"])),
            ))
        return out

    def edits(self, record_id: int) -> list[StoredEdit]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM edits WHERE record_id = ? ORDER BY version, seq", (record_id,)
            ).fetchall()
        return [
            StoredEdit(record_id=int(r["record_id"]), version=int(r["version"]), seq=int(r["seq"]), path=r["cell_path"],
                       before=json.loads(r["before_json"]), after=json.loads(r["after_json"]), who=r["who"], at=r["at"])
            for r in rows
        ]

    def confirmations(self, record_id: int) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT version, reviewer, confirmed_at FROM confirmations WHERE record_id = ? ORDER BY version",
                (record_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def records(self, ids: Iterable[int] | None = None) -> list[StoredRecord]:
        """The given records in that order, or every record, oldest confirmation first (what an export holds)."""
        if ids is None:
            return [self.get(s.id) for s in reversed(self.list_records(limit=1_000_000))]
        return [self.get(i) for i in ids]


def _conflict(current: int, expected: int, reviewer: str | None, at: str | None) -> ConflictError:
    if expected == 0:
        zh = (f"冲突：该报告已由「{reviewer}」于 {at} 确认（版本 {current}）。"
              "为避免覆盖对方的结果，本次确认未保存。请在「已确认记录」中重新打开最新记录，核对后再确认。")
    else:
        zh = (f"冲突：你基于版本 {expected} 审核，但该报告已由「{reviewer}」于 {at} 再次确认（当前版本 {current}）。"
              "为避免覆盖对方的结果，本次确认未保存。请重新打开最新记录，核对后再确认。")
    return ConflictError(
        f"record was confirmed by {reviewer} at {at} (version {current}); this review started from version {expected}",
        current_version=current, expected_version=expected, current_reviewer=reviewer, current_confirmed_at=at,
        hint_zh=zh,
    )


def _record(row: sqlite3.Row) -> StoredRecord:
    return StoredRecord(
        id=int(row["id"]), version=int(row["version"]), source_sha256=row["source_sha256"],
        source_name=row["source_name"], source_format=row["source_format"], source_text=row["source_text"],
        engine=row["engine"], machine=json.loads(row["machine_json"]), confirmed=json.loads(row["confirmed_json"]),
        findings=json.loads(row["findings_json"]), evidence=json.loads(row["evidence_json"]),
        reviewer=row["reviewer"], confirmed_at=row["confirmed_at"], created_at=row["created_at"],
    )


def changed_cells(rec: StoredRecord) -> list[str]:
    """The cells whose confirmed value differs from the machine reading the review started from."""
    machine = machine_values(rec.machine)
    return [path for path, value in iter_cells(rec.report) if value != machine.get(path)]


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    # SQLite caps the number of ? placeholders in one statement
    for i in range(0, len(items), size):
        yield items[i:i + size]


def machine_values(machine: dict[str, Any]) -> dict[str, CellValue]:
    """The cells of the machine reading a review started from (``StoredRecord.machine``), by path."""
    try:
        report = report_from_record(machine)
    except Exception:  # a machine run that failed has no usable report; every value then counts as edited
        return {}
    return dict(iter_cells(report))
