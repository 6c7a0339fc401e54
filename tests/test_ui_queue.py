"""The review queue over a real batch, without a browser: the order, opening a report as a pasted one,
confirmations tied to their batch line (and surviving a re-run), bulk confirmation, the confirmed export,
and the in-place cell edit handlers. Real reports, the real batch CLI, a real SQLite file."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from extractor.batch.results_log import RESULTS_NAME
from extractor.cli import main
from extractor.errors import InputError
from extractor.ingest import load_path
from extractor.review_store import CONFIRMED_IN_BULK, CONFIRMED_ON_SCREEN, ReviewStore
from extractor.schema import Report, get_cell
from tests.shared_data import SHARED
from ui import render
from ui.queue import (
    STATE_CLEAN,
    STATE_CONFIRMED,
    STATE_DOUBT,
    STATE_ORDER,
    STATE_REPORT_ERRORS,
    QueueService,
)
from ui.service import ReviewService

# seeds (mostly clean), devset reports with doubts (d004, d008, d011) and with the agency's errors (d002, d014)
SOURCES: list[Path] = [
    *sorted((SHARED / "seeds").glob("*.txt")),
    *(SHARED / "devset" / f"{n}.txt" for n in ("d002", "d004", "d008", "d011", "d014")),
]
pytestmark = pytest.mark.skipif(not all(p.exists() for p in SOURCES) or len(SOURCES) < 10,
                                reason="shared seeds/devset not present")
D011_FIX = ("applications.carried_forward[6]", 1)  # the 「1」 a converter moved out of its cell (d011 notes)


def _batch(inputs: Path, out: Path, *extra: str) -> None:
    assert main(["batch", str(inputs), "--out", str(out), "--engine", "template", *extra]) == 0


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for src in SOURCES:
        shutil.copyfile(src, folder / src.name)
    # the same bytes under a second name: one report, two paths
    shutil.copyfile(SOURCES[0], folder / ("copy_of_" + SOURCES[0].name))
    return folder


@pytest.fixture
def out(inputs: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    _batch(inputs, folder)
    return folder


@pytest.fixture
def qs(tmp_path: Path) -> QueueService:
    return QueueService(ReviewService(ReviewStore(tmp_path / "reviews.sqlite")))


def _key(qs: QueueService, out: Path, name: str) -> str:
    return next(it.key for it in qs.load(out).items if it.name == name)


def _lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / RESULTS_NAME).read_text(encoding="utf-8").splitlines()]


def test_queue_lists_the_reports_a_person_must_see_first(qs: QueueService, out: Path) -> None:
    queue = qs.load(out)
    assert len(queue.items) == len(SOURCES)  # the copy is folded into its twin
    twin = next(it for it in queue.items if it.name == SOURCES[0].name)
    assert [Path(p).name for p in twin.duplicate_paths] == ["copy_of_" + SOURCES[0].name]
    ranks = [STATE_ORDER.index(it.state) for it in queue.items]
    assert ranks == sorted(ranks)
    states = {it.name: it.state for it in queue.items}
    assert {states["d004.txt"], states["d008.txt"], states["d011.txt"]} == {STATE_DOUBT}
    assert states["d014.txt"] == STATE_REPORT_ERRORS
    by_path = {line["source_path"]: line for line in _lines(out)}
    for it in queue.items:  # the counts are the batch's own
        counts = by_path[it.key]["counts"]
        assert (it.n_report_errors, it.n_extraction_doubts) == (counts["report_errors"], counts["extraction_doubts"])
        if it.state == STATE_CLEAN:
            assert counts["report_errors"] == counts["extraction_doubts"] == 0 and it.n_doubted_cells == 0
    p = queue.progress
    assert (p.total, p.reviewable, p.confirmed, p.remaining) == (len(SOURCES), len(SOURCES), 0, len(SOURCES))
    assert p.clean == sum(1 for s in states.values() if s == STATE_CLEAN) and p.clean >= 3
    assert queue.next_to_review() == queue.items[0]


def test_a_queued_report_opens_exactly_as_the_pasted_one(qs: QueueService, out: Path, inputs: Path) -> None:
    for name in ("d011.txt", "d014.txt"):
        session = qs.open_item(out, _key(qs, out, name))
        pasted = qs.review.extract(load_path(inputs / name), "template")
        assert session.source_text == pasted.source_text and session.source_sha256 == pasted.source_sha256
        assert session.report == pasted.report
        assert [f.key() for f in session.findings] == [f.key() for f in pasted.findings]
        assert session.evidence == pasted.evidence
        assert session.origin is not None and Path(session.origin.source_path) == inputs / name
        assert session.base_version == 0


def test_a_confirmation_names_its_batch_line_and_survives_a_rerun(qs: QueueService, out: Path, inputs: Path,
                                                                  tmp_path: Path) -> None:
    key = _key(qs, out, "d011.txt")
    session = qs.open_item(out, key)
    path, value = D011_FIX
    assert get_cell(session.report, path) is None
    fixed = qs.review.edit_cell(session, path, str(value), who="审核员甲")
    _confirmed, record = qs.confirm(fixed, "审核员甲")

    db = sqlite3.connect(qs.review.store.path)
    row = db.execute("SELECT batch_source_path, batch_file_sha256, via FROM confirmations").fetchone()
    line = next(x for x in _lines(out) if x["source_path"] == key)
    assert row == (key, line["source_sha256"], CONFIRMED_ON_SCREEN)

    # the batch run again after a fix, into a new folder: the work is found, not lost, not doubled
    rerun = tmp_path / "rerun"
    _batch(inputs, rerun)
    item = qs.load(rerun).item(key)
    assert item.confirmed is not None and item.confirmed.record_id == record.id and item.confirmed.matched_by == "file"
    assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (1,)

    # a resumed batch that redid every file (a second line per path, the last one counting), where a reader
    # or ingest fix changed the text and so its sha256: the work is still found by the file's bytes
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    redone = []
    for x in _lines(rerun):
        if x["source_path"] == key:
            x["meta"]["source_sha256"] = "0" * 64
        redone.append(x)
    (resumed / RESULTS_NAME).write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [*_lines(out), *redone]), encoding="utf-8")
    moved = resumed
    queue = qs.load(moved)
    assert len(queue.items) == len(SOURCES)
    again = queue.item(key)
    assert again.confirmed is not None and again.confirmed.record_id == record.id

    # opening it again shows the confirmed values; confirming again makes version 2 of the same record
    reopened = qs.open_item(moved, key)
    assert get_cell(reopened.report, path) == value and reopened.base_version == 1 and reopened.origin is not None
    _again, second = qs.confirm(reopened, "审核员乙")
    assert (second.id, second.version) == (record.id, 2)
    assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (1,)


def test_a_file_changed_after_the_batch_is_not_reviewed_against_the_old_reading(qs: QueueService, out: Path,
                                                                                inputs: Path) -> None:
    key = _key(qs, out, "d008.txt")
    target = inputs / "d008.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n（补充说明）\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        qs.open_item(out, key)
    assert "修改" in (info.value.hint_zh or "")
    clean = qs.load(out).clean_keys()
    (inputs / Path(clean[0]).name).write_text("改过了", encoding="utf-8")
    outcome = qs.confirm_clean(out, "审核员甲", [clean[0]])
    assert outcome.confirmed == [] and "修改" in outcome.skipped[0][1]
    # the batch resumed over the changed files reads them anew; their new lines open normally
    _batch(inputs, out, "--resume")
    assert qs.open_item(out, key).origin is not None


def test_bulk_confirmation_takes_only_the_clean_reports_that_were_listed(qs: QueueService, out: Path) -> None:
    queue = qs.load(out)
    clean = queue.clean_keys()
    doubt = next(it.key for it in queue.items if it.state == STATE_DOUBT)
    with pytest.raises(InputError):
        qs.confirm_clean(out, "  ", clean)
    outcome = qs.confirm_clean(out, "审核员甲", [*clean[:-1], doubt])
    assert outcome.confirmed == clean[:-1]
    assert [k for k, _why in outcome.skipped] == [doubt]
    after = qs.load(out)
    assert {it.key for it in after.items if it.state == STATE_CONFIRMED} == set(clean[:-1])
    assert all(it.confirmed and it.confirmed.via == CONFIRMED_IN_BULK for it in after.items if it.confirmed)
    p = after.progress
    assert (p.confirmed, p.reviewed, p.clean) == (len(clean) - 1, 0, 1)
    assert after.items[-1].state == STATE_CONFIRMED  # finished work sinks to the end


def _confirm_everything(qs: QueueService, out: Path) -> str:
    """Fix d011 on screen, bulk-confirm the clean ones, confirm the rest as read; return d011's key."""
    key = _key(qs, out, "d011.txt")
    session = qs.open_item(out, key)
    qs.confirm(qs.review.edit_cell(session, D011_FIX[0], str(D011_FIX[1])), "审核员甲")
    qs.confirm_clean(out, "审核员乙")
    while (item := qs.load(out).next_to_review()) is not None:
        qs.confirm(qs.open_item(out, item.key), "审核员甲")
    return key


def test_the_confirmed_export_holds_every_report_once_with_the_reviewers_values(qs: QueueService, out: Path,
                                                                                 tmp_path: Path) -> None:
    with pytest.raises(InputError):
        qs.export(out, "csv", tmp_path / "nothing")
    key = _confirm_everything(qs, out)
    csv_path = qs.export(out, "csv", tmp_path / "x")
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["路径 [path]"] for r in rows) == sorted(it.key for it in qs.load(out).items)
    by_path = {r["路径 [path]"]: r for r in rows}
    fixed = by_path[key]
    assert fixed["审核人 [reviewer]"] == "审核员甲" and fixed["修改格数 [cells_changed]"] == "1"
    assert fixed["结转下年度总计 [carried_forward_total]"] == str(D011_FIX[1])
    assert fixed["确认方式 [confirmed_via]"] == CONFIRMED_ON_SCREEN and fixed["确认时间 [confirmed_at]"]
    twin = by_path[next(it.key for it in qs.load(out).items if it.name == SOURCES[0].name)]
    assert Path(twin["重复路径 [duplicate_paths]"]).name == "copy_of_" + SOURCES[0].name
    assert {r["确认方式 [confirmed_via]"] for r in rows} == {CONFIRMED_ON_SCREEN, CONFIRMED_IN_BULK}
    assert all(r["审核人 [reviewer]"] for r in rows)

    jsonl = qs.export(out, "jsonl", tmp_path / "y")
    lines = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(rows) and len({x["source_path"] for x in lines}) == len(rows)
    line = next(x for x in lines if x["source_path"] == key)
    assert Report.model_validate({k: line[k] for k in Report.model_fields}).applications["carried_forward"][6] == 1
    assert line["review"]["reviewer"] == "审核员甲" and line["review"]["cells_changed"] == 1

    from openpyxl import load_workbook

    wb = load_workbook(qs.export(out, "xlsx", tmp_path / "z"), read_only=True)
    sheet = [row for row in wb["报告 reports"].iter_rows(values_only=True)]
    assert len(sheet) == len(rows) + 1 and "审核人 [reviewer]" in sheet[0]


def test_confirmed_work_is_found_by_file_bytes_first_then_by_text(qs: QueueService, out: Path, inputs: Path) -> None:
    # a report confirmed from a paste counts as confirmed in the queue (same text), without a batch line
    pasted = qs.review.extract(load_path(inputs / "d014.txt"), "template")
    _s, record = qs.review.confirm(pasted, "审核员丙")
    item = qs.load(out).item(_key(qs, out, "d014.txt"))
    assert item.confirmed is not None and item.confirmed.matched_by == "text" and item.confirmed.record_id == record.id
    assert qs.review.store.confirmed_work([("f" * 64, None)]) == {}


# ---- the in-place edit handlers (what the page script's actions do)
def _action(**kw: object) -> str:
    return json.dumps(kw, ensure_ascii=False)


def test_clicking_typing_and_stepping_through_flagged_cells(qs: QueueService, out: Path) -> None:
    pytest.importorskip("gradio")
    from ui.cell_edit import on_cell_action, step_flagged

    service = qs.review
    session = qs.open_item(out, _key(qs, out, "d011.txt"))
    flagged = render.flagged_cells(session.report, session.findings, session.evidence)
    assert len(flagged) >= 3 and D011_FIX[0] in flagged
    assert step_flagged(session, None, 1) == flagged[0] and step_flagged(session, None, -1) == flagged[-1]
    assert step_flagged(session, flagged[-1], 1) == flagged[0]  # wraps around
    assert step_flagged(session, flagged[0], -1) == flagged[-1]

    # a click chooses the cell and opens it for typing, with its evidence and equations
    out1 = on_cell_action(service, session, _action(go=D011_FIX[0]), "审核员甲")
    assert 'class="nb-cell-input"' in out1["tables"] and f'data-path="{D011_FIX[0]}"' in out1["detail"]
    assert "R3.1" in out1["detail"] or "R3.2" in out1["detail"] or "R3.3" in out1["detail"]
    # typing + ↓ applies the value, re-checks and moves to the next flagged cell
    out2 = on_cell_action(service, session, _action(path=D011_FIX[0], value="1", go="next"), "审核员甲")
    updated = out2["session"]
    assert get_cell(updated.report, D011_FIX[0]) == 1 and len(updated.edits) == 1
    assert updated.edits[0].who == "审核员甲" and "已修改" in out2["status"]
    now_flagged = render.flagged_cells(updated.report, updated.findings, updated.evidence)
    assert len(now_flagged) < len(flagged)
    assert f'data-path="{step_flagged(updated, D011_FIX[0], 1)}" value=' in out2["tables"]
    # a value that is not a number stays in its box, with the reason; nothing changes
    bad = on_cell_action(service, updated, _action(path=D011_FIX[0], value="三十余", go="next"), "审核员甲")
    assert bad["session"] is updated and "不是整数" in bad["status"] and 'value="三十余"' in bad["tables"]
    # Enter on an unchanged value stays; crafted actions do nothing harmful
    same = on_cell_action(service, updated, _action(path=D011_FIX[0], value="1", go=""), None)
    assert same["session"] is updated and "值未改变" in same["status"]
    for raw in ("", "{", "[1]", _action(path="applications.nope[9]", value="1", go="bogus"), _action(go=7)):
        result = on_cell_action(service, updated, raw, None)
        assert result.get("session", updated) is updated
    assert "请先" in on_cell_action(service, None, _action(go=D011_FIX[0]), None)["status"]


def test_queue_handlers_return_outputs_by_component_name(qs: QueueService, out: Path, inputs: Path,
                                                        tmp_path: Path) -> None:
    pytest.importorskip("gradio")
    from ui import queue_app

    names = set(queue_app.OPEN_VIEW) | {"queue_export_file"}
    bad = queue_app.on_open_batch(qs, str(tmp_path / "nowhere"))
    assert "results.jsonl" in bad["queue_status"]
    opened = queue_app.on_open_batch(qs, str(out))
    assert set(opened) <= names and opened["batch"] == str(out.resolve())
    assert opened["queue_list"].count('class="nb-q-row"') == len(SOURCES)
    first = queue_app.on_queue_action(qs, str(out), _action(open=qs.load(out).items[0].key))
    assert set(first) <= names and first["session"].origin is not None and "nb-queue-bar" in first["queue_bar"]
    nxt = queue_app.on_confirm_next(qs, first["session"], "审核员甲", str(out))
    assert set(nxt) <= names and nxt["session"].origin.source_path == qs.load(out).items[0].key
    assert "已确认" in nxt["status"]
    pasted = qs.review.extract(load_path(inputs / "d014.txt"), "template")
    alone = queue_app.on_confirm_next(qs, pasted, "审核员甲", None)  # no batch open: confirmed, and it stays
    assert "没有下一份" in alone["confirm_status"] and alone["session"].base_version == 1
    bulk = queue_app.on_bulk_confirm(qs, str(out), "", "审核员乙", opened["clean_keys"])
    assert "已批量确认" in bulk["queue_status"]
    exported = queue_app.on_export(qs, str(out), "csv")
    export_path = Path(exported["queue_export_file"])
    assert export_path.name == "confirmed-reports.csv"
    # a download lands in a private folder (0700, files 0600) that the UI removes, like the review exports
    assert stat.S_IMODE(export_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(export_path.parent.stat().st_mode) == 0o700
    qs.review.exports.close()
    assert not export_path.parent.exists()
    assert queue_app.on_queue_action(qs, str(out), "not json") == {}


def test_with_a_login_edits_and_confirmations_are_the_logged_in_users(qs: QueueService, out: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gradio")
    from gradio.helpers import special_args

    from ui.app import build_app
    from ui.service import ReviewSession

    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)  # build_app points it at its private folder; undone after
    app = build_app(qs.review, batch_dir=str(out))
    handlers = {getattr(f.fn, "__name__", ""): f.fn for f in app.fns.values()}
    alice = SimpleNamespace(username="alice")

    def call(name: str, *inputs: object) -> list[object]:
        # as Gradio calls it: the request goes where the handler's signature asks for it
        args, *_ = special_args(handlers[name], list(inputs), alice)  # type: ignore[arg-type]
        return list(handlers[name](*args).values())

    def session_of(values: list[object]) -> ReviewSession:
        return next(v for v in values if isinstance(v, ReviewSession))

    key = _key(qs, out, "d011.txt")
    edited = session_of(call("on_cell_action", qs.open_item(out, key),
                             _action(path=D011_FIX[0], value=str(D011_FIX[1]), go=""), "mallory"))
    assert [e.who for e in edited.edits] == ["alice"]
    call("on_confirm_next", edited, "mallory", str(out))
    clean = qs.load(out).clean_keys()
    assert clean
    call("on_bulk_confirm", str(out), "mallory", "mallory", clean)
    records = qs.review.list_records()
    assert len(records) == 1 + len(clean) and {r.reviewer for r in records} == {"alice"}
    record = qs.review.store.get(qs.load(out).item(key).confirmed.record_id)  # type: ignore[union-attr]
    assert [e.who for e in qs.review.store.edits(record.id)] == ["alice"]


def test_cli_ui_refuses_a_folder_without_results(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from extractor.cli import app

    result = CliRunner().invoke(app, ["ui", "--batch", str(tmp_path), "--db", str(tmp_path / "r.sqlite")])
    assert result.exit_code == 2 and "results.jsonl" in result.output


def test_cell_detail_shows_the_alternatives_an_evidence_entry_names() -> None:
    from extractor.findings import Evidence

    report = Report.model_validate_json((SHARED / "devset" / "d011.json").read_text(encoding="utf-8"))
    path = "applications.carried_forward[6]"
    # the shape grounding gives a cell whose place the source reads several ways (None: a blank reading)
    evidence = {path: Evidence(status="unsupported", alternatives=[1, 10, None], undecided=True)}
    html_out = render.render_cell_detail(report, evidence, [], path, "")
    assert "其他可能的读法" in html_out and "<b>1</b>、<b>10</b>、<b>空</b>" in html_out
    assert "其他可能的读法" not in render.render_cell_detail(report, {path: Evidence(status="blank")}, [], path, "")
