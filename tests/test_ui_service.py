"""The review UI's logic without a browser: extract, edit + re-check, confirm, reopen, export, render."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from extractor.errors import ConfigError, InputError
from extractor.findings import Evidence, Finding
from extractor.review_store import ConflictError, ReviewStore
from extractor.schema import Report, get_cell, iter_cells, set_cell
from ui import render
from ui.equations import equations_for, format_equation
from ui.service import ExtractionCancelled, ReviewService, parse_cell_value
from tests.shared_data import SHARED


SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)
GOLD_001 = next((SHARED / "gold").glob("001_*.json"), None)
needs_seed = pytest.mark.skipif(SEED_001 is None or GOLD_001 is None, reason="shared seeds not present")
REPO = Path(__file__).resolve().parents[1]


def _gold() -> Report:
    assert GOLD_001 is not None
    return Report.model_validate_json(GOLD_001.read_text(encoding="utf-8"))


def _seed() -> str:
    assert SEED_001 is not None
    return SEED_001.read_text(encoding="utf-8")


@pytest.fixture
def service(tmp_path: Path) -> ReviewService:
    return ReviewService(ReviewStore(tmp_path / "reviews.sqlite"))


# ---- pure parts: value parsing, equations, rendering
@needs_seed
def test_parse_cell_value_by_kind() -> None:
    report = _gold()
    assert parse_cell_value(report, "applications.total[6]", " 29 ") == 29
    assert parse_cell_value(report, "applications.total[6]", "２９") == 29  # full-width digits
    assert parse_cell_value(report, "applications.total[6]", "1,024") == 1024
    assert parse_cell_value(report, "applications.total[6]", "") is None
    assert parse_cell_value(report, "active_disclosure.fees.amount_10k_yuan", "12.50") == "12.50"
    with pytest.raises(InputError) as info:
        parse_cell_value(report, "applications.total[6]", "三十余")
    assert "不是整数" in (info.value.hint_zh or "")
    with pytest.raises(InputError):
        parse_cell_value(report, "active_disclosure.fees.amount_10k_yuan", "1.2.3")


@needs_seed
def test_equations_show_rule_and_whether_it_holds() -> None:
    report = _gold()
    rules = [eq.rule for eq in equations_for(report, "applications.total[0]")]
    assert rules == ["R3.1", "R3.2", "R3.3"]
    assert [eq.rule for eq in equations_for(report, "applications.granted[0]")] == ["R3.2", "R3.3"]
    assert [eq.rule for eq in equations_for(report, "review_litigation.review.pending")] == ["R4.1"]
    assert equations_for(report, "active_disclosure.fees.amount_10k_yuan") == []
    r32 = equations_for(report, "applications.granted[0]")[0]
    assert r32.holds(report) and "成立" in format_equation(r32, report)
    set_cell(report, "applications.granted[0]", 5)
    assert not r32.holds(report)
    text = format_equation(r32, report, focus="applications.granted[0]")
    assert "不成立" in text and "左边 28，右边 32" in text


def _evidence_for(report: Report) -> dict[str, Evidence]:
    return {p: Evidence(status="grounded" if v is not None else "blank", start=None, end=None)
            for p, v in iter_cells(report)}


@needs_seed
def test_tables_follow_template_and_colour_cells() -> None:
    report = _gold()
    evidence = _evidence_for(report)
    evidence["applications.granted[0]"] = Evidence(status="mismatch", start=3, end=4, text="1", source_value="1")
    set_cell(report, "applications.denied_admin_query[1]", None)
    evidence["applications.denied_admin_query[1]"] = Evidence(status="blank")
    finding = Finding(rule="R3.2", authority="derived", severity="error", attribution="report",
                      cells=["applications.total[0]", "applications.granted[0]"], expected=27, found=28,
                      message="（七）总计（自然人）应为 27，报告填写 28")
    out = render.render_tables(report, evidence, [finding], selected=["applications.total[0]"])
    cells = dict(re.findall(r'data-path="([^"]+)" data-status="([^"]+)"', out))
    # every cell of the report is drawn exactly once: 二 (2021: 3+3+1+1+1+1), 三 (25 rows x 7), 四 (15)
    assert set(cells) == {p for p, _ in iter_cells(report)}
    assert len(cells) == 10 + 25 * 7 + 15
    assert cells["applications.granted[0]"] == "mismatch"
    assert cells["applications.denied_admin_query[1]"] == "blank"
    assert cells["applications.new_received[0]"] == "grounded"

    def td(path: str) -> str:
        m = re.search(r'<td[^>]*data-path="' + re.escape(path) + r'"[^>]*>', out)
        assert m is not None
        return m.group(0)

    assert render.STATUS_BG["mismatch"] in td("applications.granted[0]")
    assert render.STATUS_BG["blank"] in td("applications.denied_admin_query[1]")
    assert render.RULE_OUTLINE in td("applications.total[0]") and "rule-failed" in td("applications.granted[0]")
    assert render.RULE_OUTLINE not in td("applications.new_received[0]")
    assert "selected" in td("applications.total[0]")
    # the template's own labels, in print order
    for label in ("二、主动公开政府信息情况", "第二十条第（八）项", "本年收费金额（单位：万元）", "三、本年度办理结果",
                  "（三）不予公开", "1.属于国家秘密", "（七）总计", "四、结转下年度继续办理", "未经复议直接起诉", "复议后起诉"):
        assert label in out, label
    assert out.index("（一）予以公开") < out.index("（三）不予公开") < out.index("（七）总计") < out.index("四、结转下年度继续办理")


@needs_seed
def test_findings_are_grouped_by_attribution() -> None:
    f_report = Finding(rule="R4.1", authority="derived", severity="error", attribution="report",
                       cells=["review_litigation.review.total"], message="行政复议·总计 应为 1")
    f_extract = Finding(rule="G1", authority="official", severity="error", attribution="extraction",
                        cells=["applications.granted[0]"], message="予以公开（自然人）的值 5 在原文中找不到")
    out = render.render_findings([f_extract, f_report])
    report_part, extraction_part = out.split('data-attribution="extraction"')
    assert "报告自身错误（1）" in report_part and "行政复议·总计 应为 1" in report_part
    assert "提取存疑（1）" in extraction_part and "在原文中找不到" in extraction_part


def test_source_is_escaped_text_with_marks() -> None:
    text = "前言<script>alert('x')</script> 予以公开 7 件，<b>不予公开</b> 2 件"
    i7 = text.index("7")
    i2 = text.rindex("2")
    evidence = {
        "applications.granted[6]": Evidence(status="grounded", start=i7, end=i7 + 1, text="7"),
        "applications.denied_state_secret[6]": Evidence(status="mismatch", start=i2, end=i2 + 1, text="2"),
    }
    out = render.render_source(text, evidence, selected=["applications.granted[6]"])
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in out
    marks = re.findall(r"<mark([^>]*)>([^<]*)</mark>", out)
    assert [m[1] for m in marks] == ["7", "2"]
    assert 'id="ev-selected"' in marks[0][0] and "ev-sel" in marks[0][0]
    assert "ev-mismatch" in marks[1][0]
    # stripping the markup gives back exactly the source text
    import html as _html
    inner = re.sub(r"</?(pre|mark)[^>]*>", "", out)
    assert _html.unescape(inner) == text


# ---- the service against the real pipeline and a real SQLite file
@needs_seed
def test_extract_edit_recheck_confirm_reopen(service: ReviewService) -> None:
    session = service.extract(service.load_input(_seed(), None), "template")
    assert session.status == "ok" and session.base_version == 0
    path = "applications.granted[0]"
    assert get_cell(session.report, path) == 1
    assert session.evidence[path].status == "grounded"
    before_keys = {f.key() for f in session.findings}

    wrong = service.edit_cell(session, path, "5", who="王五")
    assert get_cell(wrong.report, path) == 5 and get_cell(session.report, path) == 1  # the old session is intact
    assert wrong.evidence[path].status in ("mismatch", "unsupported")
    new = [f for f in wrong.findings if f.key() not in before_keys]
    assert any(f.attribution == "extraction" and path in f.cells for f in new), new
    assert any(f.rule.startswith("R3.2") and path in f.cells for f in wrong.findings)
    html_out = render.render_tables(wrong.report, wrong.evidence, wrong.findings)
    assert re.search(r'data-path="applications\.granted\[0\]" data-status="(mismatch|unsupported)"', html_out)

    fixed = service.edit_cell(wrong, path, "1")
    assert {f.key() for f in fixed.findings} == before_keys
    assert [(e.path, e.before, e.after) for e in fixed.edits] == [(path, 1, 5), (path, 5, 1)]
    assert service.edit_cell(fixed, path, "1") is fixed  # no change, no edit

    with pytest.raises(InputError) as info:
        service.confirm(fixed, "  ")
    assert "审核人" in (info.value.hint_zh or "")
    confirmed, record = service.confirm(fixed, "审核员甲")
    assert record.version == 1 and confirmed.base_version == 1 and confirmed.edits == []
    assert [(e.before, e.after, e.who) for e in service.store.edits(record.id)] == [(1, 5, "王五"), (5, 1, "审核员甲")]
    assert record.machine["applications"]["granted"][0] == 1
    assert record.source_text == _seed()

    # a second reviewer who extracted before the first confirmed must not overwrite
    stale = replace_base(session, 0)
    with pytest.raises(ConflictError) as conflict:
        service.confirm(service.edit_cell(stale, "applications.total[6]", "30"), "审核员乙")
    assert "冲突" in (conflict.value.hint_zh or "") and "审核员甲" in (conflict.value.hint_zh or "")

    reopened = service.reopen(record.id)
    assert reopened.base_version == 1 and reopened.report == fixed.report
    again = service.edit_cell(reopened, "applications.total[6]", "29")
    assert again is reopened
    _s, second = service.confirm(service.edit_cell(reopened, "review_litigation.review.total", "0"), "审核员乙")
    assert second.version == 2 and second.id == record.id

    # a fresh extraction of a confirmed report starts from the stored version
    assert service.extract(service.load_input(_seed(), None), "template").base_version == 2


def replace_base(session, version: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(session, base_version=version)


@needs_seed
def test_exports_from_service(service: ReviewService, tmp_path: Path) -> None:
    session = service.extract(service.load_input(_seed(), None), "template")
    _s, record = service.confirm(service.edit_cell(session, "applications.granted[0]", "1"), "甲")
    archive = service.export("gold", directory=tmp_path / "out")
    with zipfile.ZipFile(archive) as zf:
        names = sorted(zf.namelist())
        assert names == [f"r{record.id:04d}_{record.source_sha256[:16]}.json", f"r{record.id:04d}_{record.source_sha256[:16]}.txt"]
        assert zf.read(names[1]).decode("utf-8") == _seed()
        assert Report.model_validate_json(zf.read(names[0])) == session.report
    for fmt, suffix in (("json", ".json"), ("csv", ".csv"), ("xlsx", ".xlsx")):
        assert service.export(fmt, directory=tmp_path / fmt).suffix == suffix


@needs_seed
def test_source_with_script_tag_is_shown_as_text(service: ReviewService) -> None:
    text = "<script>window.pwned=1</script>\n" + _seed()
    session = service.extract(service.load_input(text, None), "template")
    assert session.status == "ok"
    out = render.render_source(session.source_text, session.evidence)
    assert "<script>" not in out and "&lt;script&gt;window.pwned=1&lt;/script&gt;" in out
    # the evidence still points at the right characters after the injected line
    ev = session.evidence["applications.new_received[6]"]
    assert ev.start is not None and ev.end is not None and text[ev.start:ev.end] == "29"


def test_bad_inputs_give_chinese_messages(service: ReviewService, tmp_path: Path) -> None:
    with pytest.raises(InputError) as empty:
        service.load_input("   ", None)
    assert "粘贴" in (empty.value.hint_zh or "")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (20 * 1024 * 1024 + 1))
    with pytest.raises(InputError) as too_big:
        service.load_input("", str(big))
    assert "20 MB" in (too_big.value.hint_zh or "")
    upload = tmp_path / "report.txt"
    upload.write_text(_seed() if SEED_001 else "x", encoding="utf-8")
    doc = service.load_input("粘贴的文字被上传文件取代", str(upload))
    assert doc.name == "report.txt" and doc.text.startswith(upload.read_text(encoding="utf-8")[:50])
    not_report = service.extract(service.load_input("今天天气很好，我们去公园散步。" * 20, None), "template")
    assert not_report.status == "not_a_report"


@needs_seed
def test_cancel_stops_extraction(service: ReviewService) -> None:
    token = threading.Event()
    token.set()
    with pytest.raises(ExtractionCancelled):
        service.extract(service.load_input(_seed(), None), "template", cancel=token)
    seen: list[str] = []
    session = service.extract(service.load_input(_seed(), None), "template",
                              progress=lambda stage, frac: seen.append(stage))
    assert session.status == "ok" and seen[0] == "start" and seen[-1] == "done"


# ---- app wiring
def test_importing_ui_does_no_work() -> None:
    code = "import sys, ui.app, ui.cli, ui.render, ui.service; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_build_app_and_auth_from_env(service: ReviewService, monkeypatch: pytest.MonkeyPatch) -> None:
    gr = pytest.importorskip("gradio")
    from ui.app import auth_from_env, build_app

    app = build_app(service)
    assert isinstance(app, gr.Blocks)
    ids = {getattr(b, "elem_id", None) for b in app.blocks.values()}
    assert {"nb-source-input", "nb-extract", "nb-tables", "nb-findings", "nb-cell-select", "nb-confirm",
            "nb-reviewer", "nb-source-view"} <= ids
    monkeypatch.delenv("NIANBAO_UI_USER", raising=False)
    monkeypatch.delenv("NIANBAO_UI_PASSWORD", raising=False)
    assert auth_from_env() is None
    monkeypatch.setenv("NIANBAO_UI_USER", "reviewer")
    with pytest.raises(ConfigError):
        auth_from_env()
    monkeypatch.setenv("NIANBAO_UI_PASSWORD", "s3cret")
    assert auth_from_env() == ("reviewer", "s3cret")


def test_cli_ui_command_is_registered() -> None:
    from typer.testing import CliRunner

    from extractor.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["ui", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--engine"):
        assert option in result.output
    bad = runner.invoke(app, ["ui", "--engine", "bogus"])
    assert bad.exit_code == 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_login_from_env_protects_the_app(service: ReviewService, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import urllib.error
    import urllib.parse
    import urllib.request

    pytest.importorskip("gradio")
    from ui.app import build_app, launch

    monkeypatch.setenv("NIANBAO_UI_USER", "reviewer")
    monkeypatch.setenv("NIANBAO_UI_PASSWORD", "s3cret")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = build_app(service)
    launch(app, port=port, prevent_thread_lock=True, quiet=True)
    try:
        base = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"{base}/config", timeout=10)
        assert denied.value.code == 401
        data = urllib.parse.urlencode({"username": "reviewer", "password": "wrong"}).encode()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/login", data=data, timeout=10)
        data = urllib.parse.urlencode({"username": "reviewer", "password": "s3cret"}).encode()
        assert urllib.request.urlopen(f"{base}/login", data=data, timeout=10).status == 200
    finally:
        app.close()
