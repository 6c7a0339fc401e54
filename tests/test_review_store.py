"""The review store (confirmed records) against a real SQLite file, and the files exported from it."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
import zipfile
from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.exports import write_gold, write_records, write_records_csv, write_records_json, write_records_xlsx
from extractor.result import ExtractionResult
from extractor.review_store import MIGRATIONS, CellEdit, ConflictError, ReviewStore, migrate
from extractor.schema import Report, get_cell, iter_cells, set_cell
from tests.shared_data import SHARED


GOLD_001 = next((SHARED / "gold").glob("001_*.json"), None)
SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)

pytestmark = pytest.mark.skipif(GOLD_001 is None or SEED_001 is None, reason="shared seeds not present")


def _gold() -> Report:
    assert GOLD_001 is not None
    return Report.model_validate_json(GOLD_001.read_text(encoding="utf-8"))


def _confirm(store: ReviewStore, report: Report, *, sha: str = "a" * 64, reviewer: str = "张三",
             expected_version: int = 0, edits: list[CellEdit] | None = None, text: str = "源文本"):
    machine = ExtractionResult(report=_gold(), source_text=text, source_sha256=sha).to_dict()
    return store.confirm(
        source_text=text, source_sha256=sha, report=report, findings=[{"rule": "R3.2", "message": "示例"}],
        evidence={}, machine=machine, edits=edits or [], reviewer=reviewer, expected_version=expected_version,
        source_name="001.txt", source_format="text", engine="template",
    )


def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    db_path = tmp_path / "r.sqlite"
    ReviewStore(db_path)
    ReviewStore(db_path)  # reopening applies nothing twice
    db = sqlite3.connect(db_path, isolation_level=None)
    names = [r[0] for r in db.execute("SELECT name FROM _nianbao_migrations ORDER BY rowid")]
    assert names == [m.__name__ for m in MIGRATIONS]
    assert migrate(db) == []
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"records", "edits", "confirmations"} <= tables


def test_confirm_writes_record_edits_and_findings(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "r.sqlite")
    report = _gold()
    set_cell(report, "applications.granted[0]", 5)
    edits = [CellEdit("applications.granted[0]", 1, 5, who="李四"), CellEdit("applications.granted[0]", 5, 1)]
    set_cell(report, "applications.granted[0]", 1)
    rec = _confirm(store, report, edits=edits)
    assert rec.version == 1 and rec.reviewer == "张三"
    assert rec.report == report
    assert rec.source_text == "源文本" and rec.source_sha256 == "a" * 64
    assert rec.findings[0]["rule"] == "R3.2"
    stored = store.edits(rec.id)
    assert [(e.path, e.before, e.after) for e in stored] == [
        ("applications.granted[0]", 1, 5), ("applications.granted[0]", 5, 1)]
    # who defaults to the confirming reviewer where the edit did not name one
    assert [e.who for e in stored] == ["李四", "张三"]
    summary = store.list_records()
    assert len(summary) == 1 and summary[0].n_edits == 2 and summary[0].year == 2022


def test_stale_version_raises_conflict_and_keeps_first(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "r.sqlite")
    first = _gold()
    set_cell(first, "applications.total[6]", 30)
    _confirm(store, first, reviewer="甲")
    second = _gold()
    with pytest.raises(ConflictError) as info:
        _confirm(store, second, reviewer="乙", expected_version=0)
    assert "甲" in (info.value.hint_zh or "") and "冲突" in (info.value.hint_zh or "")
    assert info.value.current_version == 1
    rec = store.find_by_sha256("a" * 64)
    assert rec is not None and rec.reviewer == "甲" and get_cell(rec.report, "applications.total[6]") == 30
    # confirming against the current version succeeds and bumps it
    again = _confirm(store, second, reviewer="乙", expected_version=1)
    assert again.version == 2 and again.reviewer == "乙"
    assert [c["reviewer"] for c in store.confirmations(again.id)] == ["甲", "乙"]


def test_two_reviewers_at_once_exactly_one_wins(tmp_path: Path) -> None:
    db_path = tmp_path / "r.sqlite"
    ReviewStore(db_path)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def review(name: str) -> None:
        store = ReviewStore(db_path)  # each reviewer has their own connection(s)
        barrier.wait()
        try:
            _confirm(store, _gold(), reviewer=name, expected_version=0)
            outcomes[name] = "ok"
        except ConflictError:
            outcomes[name] = "conflict"

    threads = [threading.Thread(target=review, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT COUNT(*), MAX(version) FROM records").fetchone() == (1, 1)
    winner = next(n for n, o in outcomes.items() if o == "ok")
    assert db.execute("SELECT reviewer FROM records").fetchone()[0] == winner


def test_reviewer_name_required(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "r.sqlite")
    with pytest.raises(Exception) as info:
        _confirm(store, _gold(), reviewer="  ")
    assert "审核人" in (getattr(info.value, "hint_zh", "") or "")
    assert store.list_records() == []


def test_exports_json_csv_xlsx_gold(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    store = ReviewStore(tmp_path / "r.sqlite")
    report = _gold()
    set_cell(report, "active_disclosure.fees.amount_10k_yuan", "1.5")
    assert SEED_001 is not None
    seed_text = SEED_001.read_text(encoding="utf-8")
    rec = _confirm(store, report, text=seed_text,
                   edits=[CellEdit("active_disclosure.fees.amount_10k_yuan", "0", "1.5")])
    other = _confirm(store, _gold(), sha="b" * 64, reviewer="乙")

    data = json.loads(write_records_json(store, tmp_path / "all.json").read_text(encoding="utf-8"))
    assert [d["review"]["record_id"] for d in data] == [rec.id, other.id]
    assert data[0]["active_disclosure"]["fees"]["amount_10k_yuan"] == "1.5"
    assert data[0]["review"]["edits"][0]["after"] == "1.5"

    with open(write_records_csv(store, tmp_path / "cells.csv", ids=[rec.id]), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(iter_cells(report))
    fee = next(r for r in rows if r["cell"] == "active_disclosure.fees.amount_10k_yuan")
    assert (fee["value"], fee["machine_value"], fee["edited"]) == ("1.5", "0", "1")
    assert "行政事业性收费" in fee["label"]
    assert sum(r["edited"] == "1" for r in rows) == 1

    wb = load_workbook(write_records_xlsx(store, tmp_path / "out.xlsx"))
    assert wb.sheetnames == ["records", "cells", "edits"]
    assert wb["records"].max_row == 3
    edit_rows = list(wb["edits"].iter_rows(min_row=2, values_only=True))
    assert [(r[3], r[5], r[6]) for r in edit_rows] == [("active_disclosure.fees.amount_10k_yuan", "0", "1.5")]

    files = write_gold(store, tmp_path / "gold", ids=[rec.id])
    assert sorted(p.suffix for p in files) == [".json", ".txt"]
    gold_json = next(p for p in files if p.suffix == ".json")
    assert Report.model_validate_json(gold_json.read_text(encoding="utf-8")) == report
    # the gold json is the canonical report only, like ../shared/gold
    assert list(json.loads(gold_json.read_text(encoding="utf-8"))) == list(json.loads(GOLD_001.read_text(encoding="utf-8")))
    assert gold_json.with_suffix(".txt").read_text(encoding="utf-8") == seed_text

    # what the review screen offers for download: one file per format, gold files zipped in pairs
    assert write_records(store, "json", tmp_path / "ui").name == "nianbao-records.json"
    with zipfile.ZipFile(write_records(store, "gold", tmp_path / "ui")) as zf:
        assert sorted(n.rsplit(".", 1)[1] for n in zf.namelist()) == ["json", "json", "txt", "txt"]
    with pytest.raises(InputError):
        write_records(store, "pdf", tmp_path / "ui")
