"""The finished dataset of a reviewed batch: each batch line whose report a person confirmed, carrying the
confirmed values, exported as the batch exports its own (reports CSV/XLSX, findings, JSONL lines) with
who confirmed it, when, how, and how many cells the review changed.

The lines keep the batch's shape (``source_path``, ``source_sha256`` of the file, ``settings`` …) so the
same readers and ``extractor.exports.build_tables`` take them; the report fields, ``findings``,
``evidence`` and ``counts`` are the confirmed record's, and ``review`` says how it was confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from extractor.batch.results_log import STATUS_DUPLICATE, STATUS_OK, Record
from extractor.batch.runner import finding_counts
from extractor.exports import (
    REPORT_COLUMNS,
    Column,
    ExportPaths,
    build_tables,
    latest_by_path,
    write_jsonl,
    write_tables,
)
from extractor.review_store import StoredRecord, changed_cells
from extractor.schema import Report

CONFIRMED_CSV = "confirmed-reports.csv"
CONFIRMED_XLSX = "confirmed-reports.xlsx"
CONFIRMED_FINDINGS_CSV = "confirmed-findings.csv"
CONFIRMED_JSONL = "confirmed-results.jsonl"

ConfirmedFormat = Literal["csv", "xlsx", "jsonl"]
CONFIRMED_FORMATS: tuple[str, ...] = ("csv", "xlsx", "jsonl")

# the batch line's own fields that say which file it is and how it was read (the report fields are replaced)
_LINE_FIELDS: tuple[str, ...] = ("source_path", "source_sha256", "settings_key", "settings", "duplicate_of",
                                 "finished_at")


def _review(key: str) -> Any:
    return lambda r: (r.get("review") or {}).get(key)


REVIEW_COLUMNS: tuple[Column, ...] = (
    ("审核人 [reviewer]", _review("reviewer")),
    ("确认时间 [confirmed_at]", _review("confirmed_at")),
    ("确认方式 [confirmed_via]", _review("via")),
    ("修改格数 [cells_changed]", _review("cells_changed")),
    ("记录编号 [record_id]", _review("record_id")),
    ("记录版本 [record_version]", _review("version")),
)
CONFIRMED_COLUMNS: tuple[Column, ...] = REPORT_COLUMNS + REVIEW_COLUMNS


@dataclass(frozen=True)
class Confirmation:
    """A stored record confirmed for one batch line, and how (``extractor.review_store`` ``CONFIRMED_*``)."""

    record: StoredRecord
    via: str


def confirmed_line(line: Mapping[str, Any], confirmation: Confirmation) -> Record:
    """The batch line with the confirmed report in place of the machine's reading."""
    rec = confirmation.record
    out: Record = {k: line.get(k) for k in _LINE_FIELDS}
    out.update(Report.model_validate(rec.confirmed).canonical())
    out.update(status=STATUS_OK, error=None, findings=rec.findings, evidence=rec.evidence,
               meta=dict(line.get("meta") or {}))
    out["counts"] = finding_counts(rec.findings)
    out["review"] = {
        "record_id": rec.id, "version": rec.version, "reviewer": rec.reviewer, "confirmed_at": rec.confirmed_at,
        "via": confirmation.via, "cells_changed": len(changed_cells(rec)), "source_text_sha256": rec.source_sha256,
    }
    return out


def confirmed_lines(batch_lines: Iterable[Mapping[str, Any]], confirmations: Mapping[str, Confirmation]) -> list[Record]:
    """Every confirmed report of the batch once (by the last line of each path, as the batch exports read
    it), plus the duplicate lines that point at a confirmed report so they fold into its row."""
    latest = latest_by_path(dict(line) for line in batch_lines)
    out: list[Record] = []
    for path, line in latest.items():
        if line.get("status") == STATUS_DUPLICATE:
            if line.get("duplicate_of") in confirmations:
                out.append(dict(line))
        elif path in confirmations:
            out.append(confirmed_line(line, confirmations[path]))
    return out


def export_paths(out_dir: Path) -> ExportPaths:
    return ExportPaths(out_dir / CONFIRMED_CSV, out_dir / CONFIRMED_XLSX, out_dir / CONFIRMED_FINDINGS_CSV)


def write_confirmed(out_dir: Path, lines: list[Record]) -> tuple[ExportPaths, Path]:
    """confirmed-reports.csv / .xlsx, confirmed-findings.csv and confirmed-results.jsonl in ``out_dir``.
    The JSONL holds one line per report (duplicate paths folded into ``duplicate_paths``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = build_tables(lines)
    paths = export_paths(out_dir)
    write_tables(paths, tables, CONFIRMED_COLUMNS)
    jsonl = out_dir / CONFIRMED_JSONL
    write_jsonl(jsonl, [_jsonl_line(r) for r in tables.reports])
    return paths, jsonl


def _jsonl_line(row: Record) -> Record:
    out = {k: v for k, v in row.items() if k != "_duplicate_paths"}
    out["duplicate_paths"] = list(row.get("_duplicate_paths") or [])
    return out


def export_file(paths: ExportPaths, jsonl: Path, fmt: str) -> Path:
    """The one file a person asked for."""
    files: dict[str, Path] = {"csv": paths.reports_csv, "xlsx": paths.reports_xlsx, "jsonl": jsonl}
    return files[fmt]

