"""The 已确认记录 tab in the app: the list of confirmed records, reopening one on the review screen, and the
exports (``extractor.exports``), as module-level handlers over ``ReviewService`` that return outputs by
component name (``ui.wiring``), and the events that call them.
"""

from __future__ import annotations

from typing import Any

from ui.service import ReviewService, zh_error
from ui.views import REVIEW_VIEW, review_view, select_tab, status_html
from ui.wiring import Components, bind

RECORD_HEADERS = ["编号", "机关", "年度", "模板", "审核人", "确认时间", "版本", "修改数", "问题数", "来源"]
REOPEN_VIEW: tuple[str, ...] = (*REVIEW_VIEW, "records_status", "tabs")
EXPORT_VIEW: tuple[str, ...] = ("export_file", "records_status")


# ---- handlers
def records_rows(service: ReviewService) -> list[list[Any]]:
    """The records list, newest confirmation first, in RECORD_HEADERS' columns."""
    return [[r.id, r.agency or "", r.year or "", r.template or "", r.reviewer, r.confirmed_at, r.version,
             r.n_edits, r.n_findings, r.source_name or ""] for r in service.list_records()]


def on_list_records(service: ReviewService) -> dict[str, Any]:
    return {"records": records_rows(service)}


def on_reopen(service: ReviewService, record_id: float | None) -> dict[str, Any]:
    """Open a confirmed record on the review screen, re-checked; confirming it again makes the next version."""
    if record_id is None:
        message = status_html("请输入记录编号", ok=False)
        return {**review_view(None, message), "records_status": message}
    try:
        session = service.reopen(int(record_id))
    except Exception as exc:
        message = status_html(f"无法打开：{zh_error(exc)}", ok=False)
        return {**review_view(None, message), "records_status": message}
    n_old = len(service.store.edits(int(record_id)))
    message = status_html(f"已打开记录 {int(record_id)}（版本 {session.base_version}，历史修改 {n_old} 处）；"
                          f"修改后再次确认将生成版本 {session.base_version + 1}")
    return {**review_view(session, message), "records_status": message, "tabs": select_tab("review")}


def on_export(service: ReviewService, fmt: str, scope: str | None) -> dict[str, Any]:
    """The chosen records (numbers separated by commas; none: all) as one file to download."""
    try:
        ids = [int(x) for x in (scope or "").replace("，", ",").split(",") if x.strip()] or None
        path = service.export(fmt, ids)
    except ValueError:
        return {"export_file": None, "records_status": status_html("编号格式不对：请用逗号分隔的数字", ok=False)}
    except Exception as exc:
        return {"export_file": None, "records_status": status_html(f"导出失败：{zh_error(exc)}", ok=False)}
    return {"export_file": str(path), "records_status": status_html(f"已导出：{path.name}")}


# ---- events
def wire(app: Any, service: ReviewService, c: Components) -> None:
    c["refresh_btn"].click(bind(c, on_list_records, service), None, [c["records"]])
    c["reopen_btn"].click(bind(c, on_reopen, service), [c["record_id"]], c.pick(REOPEN_VIEW))
    c["export_btn"].click(bind(c, on_export, service), [c["export_format"], c["export_ids"]], c.pick(EXPORT_VIEW))
    app.load(bind(c, on_list_records, service), None, [c["records"]])
