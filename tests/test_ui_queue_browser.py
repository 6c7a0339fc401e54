"""An office's review of a batch, in a real browser (Playwright + Debian's chromium): ``nianbao batch`` over
the real reports of evals/samples and the 平潭 development set, the queue opened in the UI, a flagged cell
fixed by clicking it and typing, 「确认并下一份」 through the queue, the clean reports confirmed in bulk,
and the export checked: every report exactly once, with the reviewer's values. Then the batch is run again
after a "fix" into a new folder, opened from the UI, and the confirmed work is all there, once.

Screenshots 06/07 go to docs/screenshots/ with NIANBAO_UPDATE_SCREENSHOTS=1 (see test_ui_browser.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from extractor.batch.results_log import RESULTS_NAME
from extractor.schema import Report, get_cell, report_from_record
from tests.shared_data import ROOT, SHARED
from tests.test_ui_browser import TIMEOUT_MS, _free_port, page, shots  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*"),
]

SOURCE_SUFFIXES = (".txt", ".html", ".pdf", ".docx")
REVIEWER = "审核员甲"
BULK_REVIEWER = "审核员乙"


def _sources() -> list[Path]:
    """Real reports with their gold beside them (NAME.json): the eval samples and the 平潭 devset."""
    samples = [p for p in sorted((ROOT / "evals" / "samples").iterdir())
               if p.suffix in SOURCE_SUFFIXES and p.with_suffix(".json").exists()]
    pingtan = sorted((SHARED / "devset-pingtan").glob("*.txt"))
    return [*samples, *pingtan]


SOURCES = _sources()
needs_reports = pytest.mark.skipif(len(SOURCES) < 20, reason=f"only {len(SOURCES)} real reports here (the 平潭 devset "
                                                            "of ../shared is missing); the queue test needs 20")


def _batch(out: Path) -> None:
    from extractor.cli import main

    assert main(["batch", *map(str, SOURCES), "--out", str(out), "--engine", "template"]) == 0


def _gold(source: Path) -> Report:
    return Report.model_validate_json(source.with_suffix(".json").read_text(encoding="utf-8"))


def _wrong_flagged_cells(qs: Any, out: Path) -> tuple[str, list[tuple[str, Any]]]:
    """The first report in queue order with flagged cells the reader got wrong, and (cell, gold value) of each."""
    from ui import render
    from ui.queue import STATE_DOUBT

    for item in qs.load(out).items:
        if item.state != STATE_DOUBT:
            continue
        session = qs.open_item(out, item.key)
        gold = _gold(Path(item.key))
        wrong = [(c, get_cell(gold, c)) for c in render.flagged_cells(session.report, session.findings, session.evidence)
                 if get_cell(session.report, c) != get_cell(gold, c)]
        if wrong:
            return item.key, wrong
    pytest.fail("no report of the batch has a flagged cell the reader got wrong: nothing to fix")


def _export(pg: Any, label: str, file_name: str) -> bytes:
    """Choose the format, press 导出, and fetch the file the page links to."""
    from playwright.sync_api import expect

    pg.locator("#nb-queue-export-format").get_by_text(label, exact=False).click()
    pg.locator("#nb-queue-export").click()
    expect(pg.locator("#nb-queue-status")).to_contain_text(f"已导出已确认的报告：{file_name}")
    link = pg.locator("#nb-queue-export-file a").first
    expect(link).to_have_attribute("href", re.compile(re.escape(file_name) + "$"))
    return pg.request.get(link.get_attribute("href")).body()


@needs_reports
def test_office_reviews_a_batch_through_the_queue(tmp_path: Path, page: Any, shots: Path,  # noqa: F811
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gradio")
    from playwright.sync_api import expect

    from extractor.review_store import ReviewStore
    from ui.app import build_app, launch
    from ui.queue import QueueService
    from ui.service import ReviewService

    expect.set_options(timeout=TIMEOUT_MS)
    monkeypatch.delenv("NIANBAO_UI_USER", raising=False)
    monkeypatch.delenv("NIANBAO_UI_PASSWORD", raising=False)
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    out = tmp_path / "batch"
    _batch(out)
    db_path = tmp_path / "reviews.sqlite"
    qs = QueueService(ReviewService(ReviewStore(db_path)))
    queue = qs.load(out)
    reviewable = [it.key for it in queue.items if it.reviewable]
    assert len(reviewable) >= 20
    target, wrong = _wrong_flagged_cells(qs, out)

    app = build_app(ReviewService(ReviewStore(db_path)), batch_dir=str(out))
    port = _free_port()
    launch(app, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        pg = page
        pg.goto(f"http://127.0.0.1:{port}/")

        # the queue: every report, a person's work first, progress at zero
        rows = pg.locator("#nb-queue-list tr.nb-q-row")
        expect(rows).to_have_count(len(queue.items))
        progress = pg.locator("#nb-queue-progress .nb-queue-progress")
        expect(progress).to_have_attribute("data-remaining", str(len(reviewable)))
        expect(progress).to_have_attribute("data-confirmed", "0")
        assert rows.first.get_attribute("data-state") == "doubt"
        expect(rows.first).to_contain_text("提取存疑")
        clean_rows = pg.locator('#nb-queue-list tr.nb-q-row[data-state="clean"]')
        n_clean = clean_rows.count()
        assert n_clean >= 5
        expect(pg.locator("#nb-bulk-confirm")).to_contain_text(f"（{n_clean} 份）")

        # open the report to fix: its source and evidence, exactly as a pasted one
        pg.locator(f'#nb-queue-list button[data-open="{target}"]').click()
        expect(pg.locator("#nb-status")).to_contain_text("已打开")
        expect(pg.locator("#nb-queue-bar .nb-queue-bar")).to_have_attribute("data-key", target)
        expect(pg.locator("#nb-source-view mark.ev").first).to_be_visible()
        tables = pg.locator("#nb-tables")
        flagged_paths = [td.get_attribute("data-path") for td in tables.locator("td.flagged").all()]
        assert all(cell in flagged_paths for cell, _v in wrong)

        # click a flagged cell: it is chosen (evidence, equations, findings) and open for typing
        first_cell, first_value = wrong[0]
        tables.locator(f'td[data-path="{first_cell}"]').click()
        box = tables.locator(f'input.nb-cell-input[data-path="{first_cell}"]')
        expect(box).to_be_focused()
        expect(pg.locator("#nb-detail .nb-detail")).to_have_attribute("data-path", first_cell)
        expect(pg.locator("#nb-source-view")).to_be_visible()

        # keyboard: ↓ / ↑ walk the flagged cells (nothing typed, nothing changed)
        at = flagged_paths.index(first_cell)
        pg.keyboard.press("ArrowDown")
        expect(tables.locator("input.nb-cell-input")).to_have_attribute("data-path", flagged_paths[(at + 1) % len(flagged_paths)])
        expect(tables.locator("input.nb-cell-input")).to_be_focused()
        pg.keyboard.press("ArrowUp")
        expect(box).to_be_focused()
        expect(pg.locator("#nb-edits .nb-edits")).to_have_attribute("data-count", "0")

        # type the value the source really prints; Enter applies it and the checker re-runs
        for n, (cell, value) in enumerate(wrong, start=1):
            if n > 1:
                tables.locator(f'td[data-path="{cell}"]').click()
            box = tables.locator(f'input.nb-cell-input[data-path="{cell}"]')
            expect(box).to_be_focused()
            pg.keyboard.press("Control+a")
            if value is None:
                pg.keyboard.press("Backspace")
            else:
                pg.keyboard.type(str(value))
            if n == 1:
                pg.locator("#nb-status").evaluate("el => el.scrollIntoView({block: 'start'})")
                pg.screenshot(path=str(shots / "07_cell_edit_in_place.png"), full_page=False)
            if n == len(wrong) > 1:
                break  # the last one stays typed, not applied: confirming must apply it first (below)
            pg.keyboard.press("Enter")
            expect(pg.locator("#nb-edits table.nb-edits")).to_have_attribute("data-count", str(n))
            expect(pg.locator("#nb-status")).to_contain_text("已修改")
            expect(tables.locator(f'td[data-path="{cell}"] input')).to_have_value("" if value is None else str(value))

        pg.locator("#nb-reviewer textarea, #nb-reviewer input").first.fill(REVIEWER)
        if len(wrong) > 1:
            # a value typed but not applied is applied before anything is confirmed, and nothing is confirmed yet
            pg.locator("#nb-confirm-next").click()
            expect(pg.locator("#nb-status")).to_contain_text("正在输入的值已先应用")
            expect(pg.locator("#nb-edits table.nb-edits")).to_have_attribute("data-count", str(len(wrong)))
            expect(pg.locator("#nb-queue-bar .nb-queue-bar")).to_have_attribute("data-key", target)
            expect(pg.locator("#nb-confirm-status")).not_to_contain_text("已确认")

        # 确认并下一份: saved with the reviewer's name, and the next report of the queue is open
        pg.locator("#nb-confirm-next").click()
        expect(pg.locator("#nb-confirm-status")).to_contain_text("已确认")
        bar = pg.locator("#nb-queue-bar .nb-queue-bar")
        expect(bar).not_to_have_attribute("data-key", target)
        expect(pg.locator("#nb-status")).to_contain_text("已打开")

        # back to the list: one confirmed; then the clean ones in bulk, after a look at the list
        pg.get_by_role("tab", name="批次队列").click()
        expect(progress).to_have_attribute("data-confirmed", "1")
        expect(pg.locator(f'#nb-queue-list tr.nb-q-row[data-key="{target}"]')).to_have_attribute("data-state", "confirmed")
        pg.screenshot(path=str(shots / "06_queue.png"), full_page=False)
        expect(pg.locator("#nb-queue-reviewer textarea, #nb-queue-reviewer input").first).to_have_value(REVIEWER)
        pg.locator("#nb-queue-reviewer textarea, #nb-queue-reviewer input").first.fill(BULK_REVIEWER)
        pg.locator("#nb-bulk-confirm").click()
        expect(pg.locator("#nb-queue-status")).to_contain_text(f"已批量确认 {n_clean} 份")
        expect(progress).to_have_attribute("data-confirmed", str(1 + n_clean))
        expect(clean_rows).to_have_count(0)

        # the rest, one by one: 「确认并下一份」 until the queue is done
        pg.locator("#nb-open-next").click()
        expect(pg.locator("#nb-status")).to_contain_text("已打开")
        pg.locator("#nb-reviewer textarea, #nb-reviewer input").first.fill(REVIEWER)
        for _ in range(len(reviewable)):
            key = bar.get_attribute("data-key")
            pg.locator("#nb-confirm-next").click()
            pg.wait_for_function(
                """(key) => {
                    const bar = document.querySelector('#nb-queue-bar .nb-queue-bar');
                    const done = (document.querySelector('#nb-queue-status') || {}).innerText || '';
                    return (bar && bar.dataset.key !== key) || done.includes('全部确认');
                }""", arg=key, timeout=TIMEOUT_MS)
            if "全部确认" in pg.locator("#nb-queue-status").inner_text():
                break
        expect(progress).to_have_attribute("data-remaining", "0")
        expect(progress).to_have_attribute("data-confirmed", str(len(reviewable)))

        # the export: every report once, with the reviewer's values and who confirmed it
        rows_csv = list(csv.DictReader(io.StringIO(_export(pg, "CSV", "confirmed-reports.csv").decode("utf-8-sig"))))
        assert sorted(r["路径 [path]"] for r in rows_csv) == sorted(reviewable)
        by_path = {r["路径 [path]"]: r for r in rows_csv}
        assert by_path[target]["审核人 [reviewer]"] == REVIEWER
        assert by_path[target]["修改格数 [cells_changed]"] == str(len(wrong))
        assert {r["审核人 [reviewer]"] for r in rows_csv} == {REVIEWER, BULK_REVIEWER}
        assert sum(r["确认方式 [confirmed_via]"] == "bulk" for r in rows_csv) == n_clean
        lines = [json.loads(x) for x in _export(pg, "JSONL", "confirmed-results.jsonl").decode("utf-8").splitlines()]
        assert sorted(x["source_path"] for x in lines) == sorted(reviewable)
        machine = {x["source_path"]: x for x in
                   (json.loads(line) for line in (out / RESULTS_NAME).read_text(encoding="utf-8").splitlines())}
        for line in lines:
            confirmed = report_from_record(line)
            if line["source_path"] == target:
                for cell, value in wrong:
                    assert get_cell(confirmed, cell) == value
                assert line["review"]["cells_changed"] == len(wrong)
            else:  # confirmed as read: no value changed on the way
                assert confirmed == report_from_record(machine[line["source_path"]]), line["source_path"]
                assert line["review"]["cells_changed"] == 0

        # the batch run again (after a reader fix) into a new folder, opened from the UI: nothing lost, nothing twice
        rerun = tmp_path / "batch-rerun"
        _batch(rerun)
        pg.locator("#nb-batch-dir textarea, #nb-batch-dir input").first.fill(str(rerun))
        pg.locator("#nb-open-batch").click()
        expect(pg.locator("#nb-queue-progress")).to_contain_text(str(rerun))
        expect(progress).to_have_attribute("data-remaining", "0")
        expect(progress).to_have_attribute("data-confirmed", str(len(reviewable)))
        again = list(csv.DictReader(io.StringIO(_export(pg, "CSV", "confirmed-reports.csv").decode("utf-8-sig"))))
        assert sorted(r["路径 [path]"] for r in again) == sorted(reviewable)
        assert {r["路径 [path]"]: r["审核人 [reviewer]"] for r in again} == {p: by_path[p]["审核人 [reviewer]"] for p in by_path}
        records = ReviewStore(db_path).list_records(limit=10_000)
        assert len(records) == len(reviewable)
    finally:
        app.close()
