"""Every export file, in one place: the batch's (reports.csv / reports.xlsx, one row per report, and
findings.csv), the review queue's confirmed dataset (the same tables with review columns, written through
``write_tables`` and ``write_jsonl`` by ``extractor.batch.confirmed``) and the review store's records (JSON,
cells CSV, XLSX workbook, eval gold files).

CSV and XLSX go through ``extractor.spreadsheet`` (the one formula-safe writer), JSON, JSONL and gold files
through ``extractor.atomic_file``: every export is written whole or not at all.

The batch's tables are built from the whole results.jsonl, never from one run's memory, so a resumed batch
exports exactly what an uninterrupted one would: the last line of each path counts, rows are sorted by path,
and a duplicate path is folded into the row of the report it duplicates (column 重复路径). Nothing that
varies between runs (timings, timestamps) goes into these files.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from extractor.atomic_file import write_atomically
from extractor.batch.results_log import (
    STATUS_DUPLICATE,
    STATUS_FAILED,
    STATUS_NOT_A_REPORT,
    STATUS_OK,
    Record,
)
from extractor.errors import InputError
from extractor.findings import Finding, doubted_cells_of_json
from extractor.review_store import ReviewStore, StoredEdit, StoredRecord, machine_values
from extractor.schema import iter_cells, report_from_record
from extractor.spreadsheet import Sheet, write_csv, write_xlsx
from extractor.template_spec import cell_label
from extractor.year_checks import YearReport, year_to_year


# ---- whole files, written atomically
def write_text(target: Path, text: str) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return write_atomically(target, write)


def write_json(target: Path, data: Any) -> Path:
    """Indented one space, Chinese as itself (a person opens these files too)."""
    return write_text(target, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def write_jsonl(target: Path, records: Iterable[Record]) -> Path:
    """One JSON object a line, like results.jsonl."""
    return write_text(target, "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                                      for r in records))


# ---- the batch's files
REPORTS_CSV = "reports.csv"
REPORTS_XLSX = "reports.xlsx"
FINDINGS_CSV = "findings.csv"

Value = str | int | None
Column = tuple[str, Callable[["Record"], Value]]


def _cell(record: Record, section: str, *keys: str | int) -> Value:
    node: Any = record.get(section)
    for k in keys:
        if node is None:
            return None
        if isinstance(k, int):
            node = node[k] if isinstance(node, list) and len(node) > k else None
        else:
            node = node.get(k) if isinstance(node, dict) else None
    return node if isinstance(node, (int, str)) or node is None else str(node)


def _apps_total(row: str) -> Callable[[Record], Value]:
    return lambda r: _cell(r, "applications", row, 6)


def _active(row: str, *fields: str) -> Callable[[Record], Value]:
    # 2021 and 2019 name the same idea differently (issued vs made): the first present field wins.
    def get(r: Record) -> Value:
        for f in fields:
            v = _cell(r, "active_disclosure", row, f)
            if v is not None:
                return v
        return None

    return get


def _review(group: str) -> Callable[[Record], Value]:
    return lambda r: _cell(r, "review_litigation", group, "total")


def _count(name: str) -> Callable[[Record], Value]:
    def get(r: Record) -> Value:
        if r.get("status") != STATUS_OK:
            return None
        return int((r.get("counts") or {}).get(name, 0))

    return get


# (header, getter). Headers are Chinese first with a stable English key in brackets, so a script
# can select columns without parsing Chinese.
REPORT_COLUMNS: tuple[Column, ...] = (
    ("路径 [path]", lambda r: r.get("source_path")),
    ("SHA-256 [sha256]", lambda r: r.get("source_sha256")),
    ("状态 [status]", lambda r: r.get("status")),
    ("错误 [error]", lambda r: r.get("error")),
    ("机关 [agency]", lambda r: r.get("agency")),
    ("年度 [year]", lambda r: r.get("year")),
    ("模板 [template]", lambda r: r.get("template")),
    ("新收申请总计 [new_received_total]", _apps_total("new_received")),
    ("上年结转总计 [carried_over_total]", _apps_total("carried_over")),
    ("予以公开总计 [granted_total]", _apps_total("granted")),
    ("（七）总计 [applications_total]", _apps_total("total")),
    ("结转下年度总计 [carried_forward_total]", _apps_total("carried_forward")),
    ("行政许可处理决定 [licensing_decisions]", _active("licensing", "decisions")),
    ("行政处罚处理决定 [punishment_decisions]", _active("punishment", "decisions")),
    ("行政强制处理决定 [coercion_decisions]", _active("coercion", "decisions")),
    ("规范性文件制发/新制作 [normative_documents_issued]", _active("normative_documents", "issued", "made")),
    ("行政复议总计 [review_total]", _review("review")),
    ("直接起诉总计 [litigation_direct_total]", _review("litigation_direct")),
    ("复议后起诉总计 [litigation_after_review_total]", _review("litigation_after_review")),
    ("报告错误数 [report_errors]", _count("report_errors")),
    ("提取存疑数 [extraction_doubts]", _count("extraction_doubts")),
    ("引擎 [engine]", lambda r: (r.get("settings") or {}).get("engine") or (r.get("meta") or {}).get("engine")),
    ("模型 [model]", lambda r: (r.get("settings") or {}).get("model")),
    ("重复路径 [duplicate_paths]", lambda r: ";".join(r.get("_duplicate_paths", [])) or None),
)

FINDING_HEADERS: tuple[str, ...] = (
    "路径 [path]", "SHA-256 [sha256]", "机关 [agency]", "年度 [year]", "规则 [rule]", "依据 [authority]",
    "严重程度 [severity]", "归因 [attribution]", "单元格 [cells]", "应为 [expected]", "实为 [found]", "说明 [message]",
)


@dataclass
class BatchSummary:
    files: int = 0  # distinct paths recorded
    read: int = 0  # reports read (status ok)
    clean: int = 0  # read, and no finding of severity error
    with_report_errors: int = 0
    needing_review: int = 0  # read, with extraction doubts
    failed: int = 0  # paths not read for an error, copies of such a file included
    not_a_report: int = 0  # paths whose text is not a report, copies included
    duplicates: int = 0  # paths whose bytes equal another path's (of any status)
    year_to_year: int = 0  # reports whose numbers do not continue the same agency's year before (R-Y1/R-Y2)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (path, status, error), copies included

    @property
    def not_read(self) -> int:
        """Every path that yielded no report: the number a reader of the summary looks for."""
        return self.failed + self.not_a_report


@dataclass
class ExportTables:
    reports: list[Record]  # one per report (primary lines), duplicates folded in, sorted by path
    summary: BatchSummary
    year_findings: dict[str, list[Finding]] = field(default_factory=dict)  # by path: R-Y1/R-Y2 against the year before


def _year_report(record: Record) -> YearReport | None:
    try:
        report = report_from_record(record)
    except ValidationError:
        return None
    doubted = doubted_cells_of_json(record.get("findings") or [], record.get("evidence") or {})
    return YearReport(key=str(record.get("source_path")), report=report, doubted=frozenset(doubted))


def year_findings(reports: list[Record]) -> dict[str, list[Finding]]:
    """R-Y1/R-Y2 for every read report whose agency also has a read report of the year before."""
    items = [y for r in reports if r.get("status") == STATUS_OK and (y := _year_report(r)) is not None]
    return year_to_year(items)


def latest_by_path(records: Iterable[Record]) -> dict[str, Record]:
    """The last line of each path: a resume that redid a file supersedes its earlier line."""
    latest: dict[str, Record] = {}
    for record in records:
        path = record.get("source_path")
        if isinstance(path, str):
            latest.pop(path, None)  # keep insertion order = order of the deciding line
            latest[path] = record
    return latest


def _count_copy_not_read(summary: BatchSummary, dup: Record, target: Record) -> None:
    """A byte-identical copy of a file that could not be read was not read either: it counts, and is
    listed, with the file it copies (15 inputs not read must not show as 8 failures and 7 duplicates)."""
    status = target.get("status")
    if status not in (STATUS_FAILED, STATUS_NOT_A_REPORT):
        return
    if status == STATUS_FAILED:
        summary.failed += 1
    else:
        summary.not_a_report += 1
    error = f"与 {target.get('source_path')} 内容相同：{target.get('error') or ''}"
    summary.failures.append((str(dup["source_path"]), str(status), error))


def build_tables(records: Iterable[Record]) -> ExportTables:
    latest = latest_by_path(records)
    summary = BatchSummary(files=len(latest))
    primaries: dict[str, Record] = {}
    duplicates: list[Record] = []
    for path, record in latest.items():
        if record.get("status") == STATUS_DUPLICATE:
            duplicates.append(record)
        else:
            primaries[path] = dict(record, _duplicate_paths=[])
    for dup in duplicates:
        summary.duplicates += 1
        target = primaries.get(dup.get("duplicate_of") or "")
        if target is not None and target.get("source_sha256") == dup.get("source_sha256"):
            target["_duplicate_paths"].append(dup["source_path"])
            _count_copy_not_read(summary, dup, target)
        else:
            # its twin's line was superseded (the file changed since): keep the path visible
            orphan = dict(dup, _duplicate_paths=[])
            orphan["error"] = f"与 {dup.get('duplicate_of')} 内容相同，但该文件的结果已更新"
            primaries[dup["source_path"]] = orphan
    for row in primaries.values():
        row["_duplicate_paths"].sort()
        status = row.get("status")
        if status == STATUS_OK:
            summary.read += 1
            counts = row.get("counts") or {}
            if not counts.get("errors"):
                summary.clean += 1
            if counts.get("report_errors"):
                summary.with_report_errors += 1
            if counts.get("extraction_doubts"):
                summary.needing_review += 1
        elif status == STATUS_NOT_A_REPORT:
            summary.not_a_report += 1
            summary.failures.append((row["source_path"], status, str(row.get("error") or "")))
        elif status == STATUS_FAILED:
            summary.failed += 1
            summary.failures.append((row["source_path"], status, str(row.get("error") or "")))
    summary.failures.sort()
    reports = [primaries[p] for p in sorted(primaries)]
    cross_year = year_findings(reports)
    summary.year_to_year = len(cross_year)
    return ExportTables(reports=reports, summary=summary, year_findings=cross_year)


def report_rows(reports: list[Record], columns: Sequence[Column] = REPORT_COLUMNS) -> list[list[Value]]:
    return [[getter(r) for _, getter in columns] for r in reports]


def finding_rows(reports: list[Record], year_findings: dict[str, list[Finding]] | None = None) -> list[list[Value]]:
    rows: list[list[Value]] = []
    for r in reports:
        extra = [f.model_dump(mode="json") for f in (year_findings or {}).get(str(r.get("source_path")), [])]
        for f in [*(r.get("findings") or []), *extra]:
            rows.append([
                r.get("source_path"), r.get("source_sha256"), r.get("agency"), r.get("year"),
                f.get("rule"), f.get("authority"), f.get("severity"), f.get("attribution"),
                ";".join(f.get("cells") or []), f.get("expected"), f.get("found"), f.get("message"),
            ])
    return rows


def _write_xlsx(target: Path, report_table: list[list[Value]], finding_table: list[list[Value]],
                columns: Sequence[Column] = REPORT_COLUMNS) -> None:
    write_xlsx(target, [
        Sheet("报告 reports", [h for h, _ in columns], report_table),
        Sheet("发现 findings", list(FINDING_HEADERS), finding_table),
    ])


@dataclass
class ExportPaths:
    reports_csv: Path
    reports_xlsx: Path
    findings_csv: Path


def write_exports(out_dir: Path, records: Iterable[Record]) -> tuple[ExportPaths, BatchSummary]:
    tables = build_tables(records)
    paths = ExportPaths(out_dir / REPORTS_CSV, out_dir / REPORTS_XLSX, out_dir / FINDINGS_CSV)
    write_tables(paths, tables)
    return paths, tables.summary


def write_tables(paths: ExportPaths, tables: ExportTables, columns: Sequence[Column] = REPORT_COLUMNS) -> None:
    """The reports CSV, the findings CSV and the workbook of both, with ``columns`` as the reports' columns
    (the review queue's export adds who confirmed, when and how many cells changed)."""
    reports = report_rows(tables.reports, columns)
    findings = finding_rows(tables.reports, tables.year_findings)
    write_csv(paths.reports_csv, [h for h, _ in columns], reports)
    write_csv(paths.findings_csv, FINDING_HEADERS, findings)
    _write_xlsx(paths.reports_xlsx, reports, findings, columns)


# ---- the review store's records
RECORD_FORMATS: tuple[str, ...] = ("json", "csv", "xlsx", "gold")
RECORD_FILES: dict[str, str] = {"json": "nianbao-records.json", "csv": "nianbao-cells.csv",
                                "xlsx": "nianbao-records.xlsx", "gold": "nianbao-gold.zip"}

RECORD_CELL_COLUMNS: tuple[str, ...] = (
    "record_id", "version", "source_sha256", "source_name", "agency", "year", "template", "reviewer",
    "confirmed_at", "cell", "label", "value", "machine_value", "edited",
)
RECORD_COLUMNS: tuple[str, ...] = ("record_id", "version", "agency", "year", "template", "reviewer", "confirmed_at",
                                   "source_name", "source_sha256", "n_edits", "n_findings")
EDIT_COLUMNS: tuple[str, ...] = ("record_id", "version", "seq", "cell", "label", "before", "after", "who", "at")


def _edit_dict(e: StoredEdit) -> dict[str, Any]:
    return {"version": e.version, "seq": e.seq, "cell": e.path, "before": e.before, "after": e.after, "who": e.who,
            "at": e.at}


def write_records_json(store: ReviewStore, target: Path, ids: Iterable[int] | None = None) -> Path:
    """All (or the given) records: confirmed report, findings, edits and provenance."""
    records = []
    for rec in store.records(ids):
        data = dict(rec.confirmed)
        data["findings"] = rec.findings
        data["review"] = {
            "record_id": rec.id, "version": rec.version, "reviewer": rec.reviewer,
            "confirmed_at": rec.confirmed_at, "source_sha256": rec.source_sha256, "source_name": rec.source_name,
            "engine": rec.engine,
            "edits": [_edit_dict(e) for e in store.edits(rec.id)],
        }
        records.append(data)
    return write_json(target, records)


def record_cell_rows(records: Iterable[StoredRecord]) -> list[list[Any]]:
    """One row per cell of each record (long format): what was confirmed beside what the machine read."""
    rows: list[list[Any]] = []
    for rec in records:
        report = rec.report
        machine = machine_values(rec.machine)
        for path, value in iter_cells(report):
            machine_value = machine.get(path)
            rows.append([
                rec.id, rec.version, rec.source_sha256, rec.source_name, report.agency, report.year,
                report.template, rec.reviewer, rec.confirmed_at, path, cell_label(path), value, machine_value,
                int(value != machine_value),
            ])
    return rows


def write_records_csv(store: ReviewStore, target: Path, ids: Iterable[int] | None = None) -> Path:
    return write_csv(target, RECORD_CELL_COLUMNS, record_cell_rows(store.records(ids)))


def write_records_xlsx(store: ReviewStore, target: Path, ids: Iterable[int] | None = None) -> Path:
    """Three sheets: one row per record, one per cell (as the CSV), one per edit."""
    records = store.records(ids)
    edits = {rec.id: store.edits(rec.id) for rec in records}
    summary = [
        [rec.id, rec.version, rec.confirmed.get("agency"), rec.confirmed.get("year"), rec.confirmed.get("template"),
         rec.reviewer, rec.confirmed_at, rec.source_name, rec.source_sha256, len(edits[rec.id]), len(rec.findings)]
        for rec in records
    ]
    edit_rows = [
        [e.record_id, e.version, e.seq, e.path, cell_label(e.path), e.before, e.after, e.who, e.at]
        for rec in records for e in edits[rec.id]
    ]
    return write_xlsx(target, [
        Sheet("records", RECORD_COLUMNS, summary, freeze_header=False),
        Sheet("cells", RECORD_CELL_COLUMNS, record_cell_rows(records), freeze_header=False),
        Sheet("edits", EDIT_COLUMNS, edit_rows, freeze_header=False),
    ])


def gold_name(rec: StoredRecord) -> str:
    """``r0007_8d25aa58008aa371``: record number + the source hash prefix, like the shared gold names."""
    return f"r{rec.id:04d}_{rec.source_sha256[:16]}"


def write_gold(store: ReviewStore, directory: Path, ids: Iterable[int] | None = None) -> list[Path]:
    """Gold files for the eval suite: ``NAME.json`` (canonical report only) + ``NAME.txt`` (source)."""
    written: list[Path] = []
    for rec in store.records(ids):
        name = gold_name(rec)
        written.append(write_json(directory / f"{name}.json", rec.report.canonical()))
        written.append(write_text(directory / f"{name}.txt", rec.source_text))
    return written


def write_records(store: ReviewStore, fmt: str, out_dir: Path, ids: Iterable[int] | None = None) -> Path:
    """The review store's records as one file in ``out_dir`` (``RECORD_FILES``); gold files come zipped
    (NAME.json + NAME.txt pairs)."""
    if fmt not in RECORD_FORMATS:
        raise InputError(f"unknown export format {fmt}", hint_zh=f"未知的导出格式：{fmt}")
    target = out_dir / RECORD_FILES[fmt]
    id_list = None if ids is None else list(ids)
    if fmt == "json":
        return write_records_json(store, target, id_list)
    if fmt == "csv":
        return write_records_csv(store, target, id_list)
    if fmt == "xlsx":
        return write_records_xlsx(store, target, id_list)
    files = write_gold(store, out_dir / "gold", id_list)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, arcname=f.name)

    return write_atomically(target, write)
