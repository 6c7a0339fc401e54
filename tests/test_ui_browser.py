"""The review UI in a real browser: Playwright driving Debian's chromium against the app on localhost.

Setup (CI): ``apt-get install -y chromium fonts-noto-cjk`` and ``pip install playwright``; never
``playwright install``. Screenshots go to a temp folder, or to docs/screenshots/ with
NIANBAO_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.shared_data import SHARED

pytestmark = [
    pytest.mark.browser,
    # gradio 6's queue calls pandas 3 APIs it deprecates; not ours to fix
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*"),
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[1]
SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)
TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    pytest.importorskip("gradio")
    from extractor.review_store import ReviewStore
    from ui.app import build_app, launch
    from ui.service import ReviewService

    monkeypatch.delenv("NIANBAO_UI_USER", raising=False)
    monkeypatch.delenv("NIANBAO_UI_PASSWORD", raising=False)
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    db_path = tmp_path / "reviews.sqlite"
    app = build_app(ReviewService(ReviewStore(db_path)))
    port = _free_port()
    launch(app, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", db_path
    finally:
        app.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
        pg = context.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        try:
            yield pg
        finally:
            browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    out = tmp_path / "screenshots"
    out.mkdir()
    yield out
    if os.environ.get("NIANBAO_UPDATE_SCREENSHOTS") == "1":
        target = REPO / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for f in out.glob("*.png"):
            shutil.copy(f, target / f.name)


def _choose_cell(page: Any, label: str) -> None:
    """Open the cell dropdown, filter by typing, click the option whose text contains ``label``."""
    box = page.locator("#nb-cell-select input")
    box.click()
    box.press("Control+a")
    page.keyboard.type(label)
    option = page.get_by_role("option").filter(has_text=label).first
    option.click()


def _apply_edit(page: Any, value: str) -> None:
    field = page.locator("#nb-new-value textarea, #nb-new-value input").first
    field.fill(value)
    page.locator("#nb-apply-edit").click()


@pytest.mark.skipif(SEED_001 is None, reason="shared seeds not present")
def test_review_seed_001_edit_wrong_fix_confirm(served_app: tuple[str, Path], page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    url, db_path = served_app
    assert SEED_001 is not None
    seed = SEED_001.read_text(encoding="utf-8")
    cell = 'td[data-path="applications.granted[0]"]'

    page.goto(url)
    page.locator("#nb-source-input textarea").fill(seed)
    page.locator("#nb-engine").get_by_text("模板", exact=False).first.check()
    page.locator("#nb-extract").click()

    # extracted: the three tables shaped like the template, every cell coloured by its evidence
    expect(page.locator("#nb-status")).to_contain_text("提取完成")
    tables = page.locator("#nb-tables")
    expect(tables.locator("td[data-path]")).to_have_count(10 + 25 * 7 + 15)
    expect(tables).to_contain_text("二、主动公开政府信息情况")
    expect(tables).to_contain_text("三、收到和处理政府信息公开申请情况")
    expect(tables).to_contain_text("四、政府信息公开行政复议、行政诉讼情况")
    grounded = tables.locator('td[data-status="grounded"]').count()
    assert grounded >= 190, grounded
    expect(page.locator(cell)).to_have_attribute("data-status", "grounded")
    expect(page.locator("#nb-findings")).to_contain_text("报告自身错误")
    expect(page.locator("#nb-findings")).to_contain_text("提取存疑")
    flagged_before = tables.locator('td[data-status="mismatch"], td[data-status="unsupported"], td.rule-failed').count()
    # the source is shown as text with evidence marks
    expect(page.locator("#nb-source-view mark.ev").first).to_be_visible()
    page.screenshot(path=str(shots / "01_extracted.png"), full_page=True)

    # selecting a cell shows its evidence in the source and the equations it enters
    _choose_cell(page, "（一）予以公开（自然人）")
    detail = page.locator("#nb-detail")
    expect(detail).to_contain_text("R3.2")
    expect(detail).to_contain_text("已核实")
    expect(page.locator("#nb-source-view mark.ev-sel").first).to_be_visible()
    expect(page.locator(cell)).to_have_class(re.compile(r"\bselected\b"))
    page.screenshot(path=str(shots / "02_cell_selected.png"), full_page=True)

    # a wrong value: the reviewer's value is grounded like any other and becomes a finding
    _apply_edit(page, "5")
    expect(page.locator("#nb-status")).to_contain_text("已修改")
    expect(page.locator(cell)).to_have_attribute("data-status", re.compile("mismatch|unsupported"))
    expect(page.locator(cell)).to_have_class(re.compile(r"\brule-failed\b"))
    findings = page.locator("#nb-findings")
    expect(findings.locator('[data-attribution="extraction"] li.finding').first).to_be_visible()
    expect(findings).to_contain_text("R3.2")
    flagged_after = tables.locator('td[data-status="mismatch"], td[data-status="unsupported"], td.rule-failed').count()
    assert flagged_after > flagged_before
    expect(page.locator("#nb-edits table")).to_have_attribute("data-count", "1")
    page.screenshot(path=str(shots / "03_wrong_value_flagged.png"), full_page=True)

    # a finding can be selected to see its equation and evidence
    page.locator("#nb-finding-select input").click()
    page.get_by_role("option").filter(has_text="R3.2").first.click()
    expect(page.locator("#nb-detail")).to_contain_text("不成立")

    # fix it back (the cell stays chosen after an edit): the finding goes away
    expect(page.locator("#nb-cell-select input")).to_have_value(re.compile("予以公开（自然人）"))
    _apply_edit(page, "1")
    expect(page.locator(cell)).to_have_attribute("data-status", "grounded")
    expect(page.locator("#nb-edits table")).to_have_attribute("data-count", "2")
    assert tables.locator('td[data-status="mismatch"], td[data-status="unsupported"], td.rule-failed').count() == flagged_before

    # confirm needs a name; then the record is saved
    page.locator("#nb-confirm").click()
    expect(page.locator("#nb-confirm-status")).to_contain_text("审核人")
    page.locator("#nb-reviewer textarea, #nb-reviewer input").first.fill("审核员甲")
    page.locator("#nb-confirm").click()
    expect(page.locator("#nb-confirm-status")).to_contain_text("已确认并保存")
    page.screenshot(path=str(shots / "04_confirmed.png"), full_page=True)

    page.get_by_role("tab", name="已确认记录").click()
    expect(page.locator("#nb-records")).to_contain_text("审核员甲")
    page.locator("#nb-export-format").get_by_text("金标准文件", exact=False).click()
    page.locator("#nb-export").click()
    link = page.locator("#nb-export-file a").first
    expect(link).to_have_attribute("href", re.compile(r"nianbao-gold\.zip$"))
    archive = page.request.get(link.get_attribute("href")).body()
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert sorted(n.rsplit(".", 1)[1] for n in zf.namelist()) == ["json", "txt"]
    page.screenshot(path=str(shots / "05_records.png"), full_page=True)

    # reopening brings the confirmed record back into the review screen
    page.locator("#nb-record-id input").fill("1")
    page.locator("#nb-reopen").click()
    expect(page.locator("#nb-status")).to_contain_text("已打开记录 1")
    expect(page.locator(cell)).to_have_attribute("data-status", "grounded")

    # the SQLite file itself holds the record and the two edits
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT id, reviewer, version, source_text, confirmed_json, machine_json FROM records").fetchall()
    assert len(rows) == 1
    record_id, reviewer, version, source_text, confirmed_json, machine_json = rows[0]
    assert (reviewer, version, source_text) == ("审核员甲", 1, seed)
    assert json.loads(confirmed_json)["applications"]["granted"][0] == 1
    assert json.loads(machine_json)["applications"]["granted"][0] == 1
    edits = db.execute("SELECT cell_path, before_json, after_json, who FROM edits WHERE record_id = ? ORDER BY seq",
                       (record_id,)).fetchall()
    assert edits == [("applications.granted[0]", "1", "5", "审核员甲"), ("applications.granted[0]", "5", "1", "审核员甲")]
