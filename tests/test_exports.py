"""The batch's export rules that a batch run alone rarely exercises: latest line wins, duplicates fold,
orphans stay visible, and spreadsheet-hostile text (control characters, leading '=') is written safely; and
every export file is written by the one export module. (The review store's exports are tested with the
store, in test_review_store.py.)"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from openpyxl import load_workbook

from extractor.exports import REPORT_COLUMNS, build_tables, write_exports
from extractor.schema import empty_report

REPO = Path(__file__).resolve().parents[1]


def _ok(path: str, sha: str, agency: str = "某局", **extra: object) -> dict[str, object]:
    report = empty_report("2021")
    report.agency = agency
    report.year = 2023
    report.applications["new_received"] = [1, 0, 0, 0, 0, 0, 1]  # type: ignore[index]
    record: dict[str, object] = dict(report.canonical())
    record.update(source_path=path, source_sha256=sha, settings_key="k", settings={"engine": "template", "model": None},
                  status="ok", error=None, findings=[], evidence={}, meta={"timings_s": {"total": 0.1}},
                  counts={"findings": 0, "errors": 0, "report_errors": 0, "extraction_doubts": 0})
    record.update(extra)
    return record


def _dup(path: str, sha: str, of: str) -> dict[str, object]:
    return {"source_path": path, "source_sha256": sha, "settings_key": "k", "status": "duplicate", "duplicate_of": of}


def test_latest_line_of_a_path_wins_and_duplicates_fold_into_their_twin() -> None:
    tables = build_tables([
        _ok("/b.txt", "s1", status="failed", error="LLM 超时", retryable=True),
        _ok("/a.txt", "s2"),
        _dup("/c.txt", "s2", "/a.txt"),
        _ok("/b.txt", "s1", agency="重做后的局"),
    ])
    assert [r["source_path"] for r in tables.reports] == ["/a.txt", "/b.txt"]
    assert tables.reports[0]["_duplicate_paths"] == ["/c.txt"]
    assert tables.reports[1]["agency"] == "重做后的局" and tables.reports[1]["status"] == "ok"
    s = tables.summary
    assert (s.files, s.read, s.clean, s.failed, s.duplicates) == (3, 2, 2, 0, 1)


def test_duplicate_whose_twin_changed_content_stays_visible_as_its_own_row() -> None:
    tables = build_tables([_ok("/a.txt", "old"), _dup("/c.txt", "old", "/a.txt"), _ok("/a.txt", "new")])
    paths = [r["source_path"] for r in tables.reports]
    assert paths == ["/a.txt", "/c.txt"]
    assert tables.reports[1]["status"] == "duplicate" and "/a.txt" in tables.reports[1]["error"]


def test_summary_separates_clean_reports_from_report_errors_and_doubts() -> None:
    counts = lambda e, r, d: {"findings": e + d, "errors": e, "report_errors": r, "extraction_doubts": d}  # noqa: E731
    tables = build_tables([
        _ok("/1", "1"),
        _ok("/2", "2", counts=counts(1, 1, 0)),
        _ok("/3", "3", counts=counts(0, 0, 2)),
        _ok("/4", "4", status="not_a_report", error="不是年报"),
        _ok("/5", "5", status="failed", error="输入为空"),
    ])
    s = tables.summary
    assert (s.read, s.clean, s.with_report_errors, s.needing_review, s.not_a_report, s.failed) == (3, 2, 1, 1, 1, 1)
    assert [f[0] for f in s.failures] == ["/4", "/5"]


def test_files_are_written_with_bom_chinese_headers_and_no_timings(tmp_path: Path) -> None:
    finding = {"rule": "R3.2", "authority": "official", "severity": "error", "attribution": "report",
               "cells": ["applications.total[0]", "applications.granted[0]"], "expected": 26, "found": 20,
               "message": "=SUM(A1) （七）总计 自然人 应为 26，报告填写 20"}
    records = [_ok("/a.txt", "s1", agency="局\x07名", findings=[finding],
                   counts={"findings": 1, "errors": 1, "report_errors": 1, "extraction_doubts": 0})]
    paths, summary = write_exports(tmp_path, records)
    assert summary.with_report_errors == 1

    raw = paths.reports_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"timings" not in raw and b"0.1" not in raw
    with open(paths.reports_csv, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [h for h, _ in REPORT_COLUMNS]
    assert rows[1][rows[0].index("新收申请总计 [new_received_total]")] == "1"
    with open(paths.findings_csv, encoding="utf-8-sig", newline="") as fh:
        frows = list(csv.DictReader(fh))
    assert frows[0]["单元格 [cells]"] == "applications.total[0];applications.granted[0]"
    assert frows[0]["应为 [expected]"] == "26" and frows[0]["归因 [attribution]"] == "report"

    wb = load_workbook(paths.reports_xlsx)
    reports, findings = wb.worksheets
    header = [c.value for c in reports[1]]
    assert header[0] == "路径 [path]"
    agency_cell = reports.cell(row=2, column=header.index("机关 [agency]") + 1).value
    assert agency_cell == "局\ufffd名"  # a control character would make Excel refuse the file
    assert reports.cell(row=2, column=header.index("新收申请总计 [new_received_total]") + 1).value == 1
    message = findings.cell(row=2, column=12)
    assert message.data_type == "s" and str(message.value).startswith("'=SUM")
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_every_export_file_is_written_by_the_export_module() -> None:
    """The spreadsheet and atomic writers are used by extractor/exports.py alone: an export written anywhere
    else would have no single place to change (and could bypass the neutralising or the atomic rename)."""
    writers = re.compile(r"^\s*from extractor\.(spreadsheet|atomic_file) import|^\s*import extractor\.(spreadsheet|atomic_file)",
                         re.MULTILINE)
    users = sorted(
        str(path.relative_to(REPO)) for folder in ("extractor", "ui", "evals")
        for path in (REPO / folder).rglob("*.py") if writers.search(path.read_text(encoding="utf-8"))
    )
    assert users == ["extractor/exports.py", "extractor/spreadsheet.py"]
