"""The review screen's and the records tab's handlers without a browser: plain calls over a real
``ReviewService`` (real pipeline, real SQLite file), each returning outputs keyed by component name, and
only names its event is wired to."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from extractor.review_store import ReviewStore
from extractor.schema import get_cell
from tests.shared_data import SHARED
from ui import records_app, review_app
from ui.service import ReviewService, ReviewSession
from ui.views import REVIEW_VIEW
from ui.wiring import Caller

SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)
needs_seed = pytest.mark.skipif(SEED_001 is None, reason="shared seeds not present")
CELL = "applications.granted[0]"
ALICE = Caller(username=None, session_key="browser-1")


@pytest.fixture
def service(tmp_path: Path) -> ReviewService:
    return ReviewService(ReviewStore(tmp_path / "reviews.sqlite"), time_budget_s=None)


def _seed() -> str:
    assert SEED_001 is not None
    return SEED_001.read_text(encoding="utf-8")


def _extracted(service: ReviewService) -> ReviewSession:
    out = review_app.on_extract(service, _seed(), None, "template", ALICE)
    assert isinstance(out["session"], ReviewSession)
    return out["session"]


@needs_seed
def test_extract_fills_the_review_screen_and_reports_progress_in_chinese(service: ReviewService) -> None:
    seen: list[tuple[float, str]] = []
    out = review_app.on_extract(service, _seed(), None, "template", ALICE, lambda f, desc: seen.append((f, desc)))
    assert set(out) == set(REVIEW_VIEW)
    assert "提取完成" in out["status"] and 'data-ok="true"' in out["status"]
    assert f'data-path="{CELL}"' in out["tables"] and out["edits"]
    assert seen[0] == (0.0, review_app.STAGE_ZH["start"]) and seen[-1] == (1.0, review_app.STAGE_ZH["done"])

    empty = review_app.on_extract(service, "   ", None, "template", ALICE)
    assert empty["session"] is None and "提取失败" in empty["status"] and "粘贴" in empty["status"]
    weather = review_app.on_extract(service, "今天天气很好，我们去公园散步。" * 20, None, "template", ALICE)
    assert weather["session"] is None and "不是一份政府信息公开工作年度报告" in weather["status"]


@needs_seed
def test_cancel_sets_the_token_of_that_browser_session_only(service: ReviewService) -> None:
    mine, other = service.cancel_token("browser-1"), service.cancel_token("browser-2")
    out = review_app.on_cancel(service, ALICE)
    assert set(out) == {"status"} and "已取消" in out["status"]
    assert mine.is_set() and not other.is_set()


@needs_seed
def test_choosing_a_cell_or_a_finding_shows_its_evidence(service: ReviewService) -> None:
    session = _extracted(service)
    cell = review_app.on_select_cell(session, CELL)
    assert set(cell) == set(review_app.SELECT_CELL_VIEW)
    assert cell["new_value"] == str(get_cell(session.report, CELL)) and "已核实" in cell["detail"]
    assert "ev-sel" in cell["source"]
    wrong = service.edit_cell(session, CELL, "5")  # a value the source does not print: findings name the cell
    assert wrong.findings
    finding = review_app.on_select_finding(wrong, "0")
    assert set(finding) == set(review_app.SELECT_FINDING_VIEW) and wrong.findings[0].rule in finding["detail"]
    # nothing chosen, no report, or a stale index: nothing changes
    assert review_app.on_select_cell(None, CELL) == {} and review_app.on_select_cell(session, None) == {}
    assert review_app.on_select_finding(wrong, str(len(wrong.findings))) == {}
    assert review_app.on_select_finding(None, "0") == {} and review_app.on_select_finding(wrong, "") == {}


@needs_seed
def test_edit_then_confirm_saves_the_edit_under_the_reviewer(service: ReviewService) -> None:
    session = _extracted(service)
    refused = review_app.on_edit(service, session, CELL, "三十余", "甲")
    assert set(refused) == set(REVIEW_VIEW) and refused["session"] is session
    assert "修改未生效" in refused["status"] and refused["new_value"] == "三十余"
    assert "请先" in review_app.on_edit(service, session, None, "5", "甲")["status"]

    edited = review_app.on_edit(service, session, CELL, "5", "甲")
    updated = edited["session"]
    assert get_cell(updated.report, CELL) == 5 and [e.who for e in updated.edits] == ["甲"]
    assert "已修改" in edited["status"] and edited["new_value"] == "5"

    unnamed = review_app.on_confirm(service, updated, "  ")
    assert set(unnamed) == {"confirm_status"} and "审核人" in unnamed["confirm_status"]
    assert service.list_records() == []
    confirmed = review_app.on_confirm(service, updated, "甲")
    assert set(confirmed) == set(review_app.CONFIRM_VIEW)
    assert confirmed["session"].base_version == 1 and "已确认并保存" in confirmed["confirm_status"]
    assert [row[4] for row in confirmed["records"]] == ["甲"]
    assert [(e.before, e.after) for e in service.store.edits(confirmed["records"][0][0])] == [(1, 5)]


@needs_seed
def test_reopen_and_export_from_the_records_tab(service: ReviewService, tmp_path: Path) -> None:
    session = _extracted(service)
    record_id = review_app.on_confirm(service, session, "甲")["records"][0][0]
    assert records_app.on_list_records(service)["records"][0][0] == record_id

    missing = records_app.on_reopen(service, None)
    assert set(missing) <= set(records_app.REOPEN_VIEW) and "请输入记录编号" in missing["records_status"]
    unknown = records_app.on_reopen(service, 999)
    assert "无法打开" in unknown["records_status"] and "tabs" not in unknown
    reopened = records_app.on_reopen(service, float(record_id))
    assert set(reopened) == set(records_app.REOPEN_VIEW)
    assert reopened["session"].base_version == 1 and "再次确认将生成版本 2" in reopened["records_status"]

    bad_ids = records_app.on_export(service, "json", "1，x")
    assert bad_ids["export_file"] is None and "编号格式不对" in bad_ids["records_status"]
    exported = records_app.on_export(service, "csv", f"{record_id}")
    assert set(exported) == set(records_app.EXPORT_VIEW) and Path(exported["export_file"]).name == "nianbao-cells.csv"
    assert Path(exported["export_file"]).stat().st_mode & 0o077 == 0  # a private download
    service.exports.close()


def test_the_reviewer_boxes_show_the_login_when_there_is_one() -> None:
    pytest.importorskip("gradio")
    assert review_app.on_page_load(Caller(username=None, session_key="x")) == {}
    boxes = review_app.on_page_load(Caller(username="alice", session_key="x"))
    assert set(boxes) == set(review_app.LOGIN_VIEW)
    assert all(b["value"] == "alice" and b["interactive"] is False for b in boxes.values())


@needs_seed
def test_the_app_calls_the_handlers_with_the_logged_in_user_and_the_browser_session(
        service: ReviewService, monkeypatch: pytest.MonkeyPatch) -> None:
    """As Gradio calls them: the request goes where the bound callback's signature asks for it, and the
    outputs come back keyed by the components the event was wired to."""
    pytest.importorskip("gradio")
    from gradio import skip
    from gradio.helpers import special_args

    from ui.app import build_app

    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)  # build_app points it at its private folder; undone after
    app = build_app(service)
    events = {getattr(f.fn, "__name__", ""): f for f in app.fns.values()}
    request = SimpleNamespace(username="alice", session_hash="browser-1")

    def call(name: str, *inputs: object) -> dict[object, object]:
        event = events[name]
        args, *_ = special_args(event.fn, list(inputs), request)  # type: ignore[arg-type]
        out = event.fn(*args)
        # what Gradio does with the outputs before it sends them to the page (a handler's output it cannot
        # match to the event's components fails here, as it would in the browser)
        asyncio.run(app.postprocess_data(event, out, None))
        return out if out != skip() else {}

    token = service.cancel_token("browser-1")
    call("on_cancel")
    assert token.is_set()
    extracted = list(call("on_extract", _seed(), None, "template").values())
    session = next(v for v in extracted if isinstance(v, ReviewSession))
    edited = next(v for v in call("on_edit", session, CELL, "5", "mallory").values() if isinstance(v, ReviewSession))
    assert [e.who for e in edited.edits] == ["alice"]
    call("on_confirm", edited, "mallory")
    assert [r.reviewer for r in service.list_records()] == ["alice"]
    assert len(call("on_page_load")) == 2
    # events that change nothing (no report yet, no batch open) must not fail in Gradio either
    assert call("on_select_cell", None, CELL) == {} and call("on_select_finding", None, "0") == {}
    assert call("on_refresh", None) == {}  # the queue tab's refresh on page load, with no batch open
    service.exports.close()
