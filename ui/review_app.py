"""The review screen (审核 tab) in the app: the handlers behind extract, cancel, choosing a cell or a finding,
editing a cell from the side panel and confirming, as module-level functions over ``ReviewService`` that
return outputs by component name (``ui.wiring``), and the events that call them.

Editing a cell where it stands in the table is ``ui.cell_edit``; the queue's bar and 「确认并下一份」 are
``ui.queue_app``; the 已确认记录 tab is ``ui.records_app``.
"""

from __future__ import annotations

from typing import Any

from extractor.schema import get_cell
from ui import render
from ui.records_app import records_rows
from ui.service import ReviewService, ReviewSession, zh_error
from ui.views import REVIEW_VIEW, edit_message, review_view, status_html
from ui.wiring import Caller, Components, ProgressBar, bind, bind_request

STAGE_ZH: dict[str, str] = {
    "start": "准备",
    "normalize": "规范化文本、识别版面",
    "read": "读取表格（大模型引擎可能需要数分钟，可随时取消）",
    "verify": "逐格核验证据、检查勾稽关系",
    "done": "完成",
}

# what each event changes besides the review screen (REVIEW_VIEW)
SELECT_CELL_VIEW: tuple[str, ...] = ("tables", "source", "detail", "new_value")
SELECT_FINDING_VIEW: tuple[str, ...] = ("tables", "source", "detail")
CONFIRM_VIEW: tuple[str, ...] = ("session", "confirm_status", "edits", "records", "summary")
LOGIN_VIEW: tuple[str, ...] = ("reviewer", "queue_reviewer")

SCROLL_TO_SELECTION_JS = """
() => {
  setTimeout(() => {
    const el = document.getElementById('ev-selected');
    if (!el) return;
    const pre = el.closest('pre');
    if (pre) pre.scrollTop += el.getBoundingClientRect().top - pre.getBoundingClientRect().top - pre.clientHeight / 2;
  }, 150);
}
"""


def _update(**kwargs: Any) -> Any:
    import gradio as gr

    return gr.update(**kwargs)


# ---- handlers
def on_extract(service: ReviewService, text: str | None, file: str | None, engine_name: str, caller: Caller,
               progress: ProgressBar | None = None) -> dict[str, Any]:
    """Read the pasted text or the upload with the chosen engine, within the time budget; 取消 (``on_cancel``)
    stops it through the browser session's cancel token."""
    token = service.cancel_token(caller.session_key)

    def report_progress(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(fraction, STAGE_ZH.get(stage, stage))

    try:
        doc = service.load_input(text, file)
        session = service.extract(doc, engine_name, progress=report_progress, cancel=token)
    except Exception as exc:  # every failure becomes a message; the previous view stays usable
        return review_view(None, status_html(f"提取失败：{zh_error(exc)}", ok=False))
    if session.status != "ok":
        why = "这不是一份政府信息公开工作年度报告" if session.status == "not_a_report" else "提取失败"
        return review_view(None, status_html(f"{why}：{session.error or ''}", ok=False))
    note = (f"；该报告已有确认记录（编号 {session.record_id}，版本 {session.base_version}），在此基础上确认将生成新版本"
            if session.base_version else "")
    warn = f"；提示：{'；'.join(session.warnings)}" if session.warnings else ""
    msg = (f"提取完成：报告自身错误 {len(session.report_errors)} 条，提取存疑 {len(session.extraction_doubts)} 条"
           f"{note}{warn}")
    return review_view(session, status_html(msg))


def on_cancel(service: ReviewService, caller: Caller) -> dict[str, Any]:
    service.cancel(caller.session_key)
    return {"status": status_html("已取消提取", ok=False)}


def on_select_cell(session: ReviewSession | None, path: str | None) -> dict[str, Any]:
    """A cell chosen in the dropdown: its evidence in the source, its equations and findings in the panel."""
    if session is None or not path:
        return {}
    value = get_cell(session.report, path)
    return {
        "tables": render.render_tables(session.report, session.evidence, session.findings, [path], editing=path),
        "source": render.render_source(session.source_text, session.evidence, [path]),
        "detail": render.render_cell_detail(session.report, session.evidence, session.findings, path,
                                            session.source_text),
        "new_value": "" if value is None else str(value),
    }


def on_select_finding(session: ReviewSession | None, index: str | None) -> dict[str, Any]:
    """A finding chosen in the dropdown: its cells marked in the table and the source, its equation shown."""
    if session is None or index in (None, ""):
        return {}
    i = int(str(index))
    if i >= len(session.findings):
        return {}
    cells = session.findings[i].cells
    return {
        "tables": render.render_tables(session.report, session.evidence, session.findings, cells),
        "source": render.render_source(session.source_text, session.evidence, cells),
        "detail": render.render_finding_detail(session.report, session.evidence, session.findings, i,
                                               session.source_text),
    }


def on_edit(service: ReviewService, session: ReviewSession | None, path: str | None, value: str | None,
            who: str) -> dict[str, Any]:
    """「修改并重新核验」 (or Enter in 新值): set the chosen cell and re-run the checks on the whole report."""
    if session is None:
        return review_view(None, status_html("请先提取一份报告", ok=False))
    if not path:
        return review_view(session, status_html("请先在「选择单元格」中选一个格子", ok=False))
    before = get_cell(session.report, path)
    try:
        updated = service.edit_cell(session, path, value, who=who)
    except Exception as exc:  # the refused value stays in 新值 with the reason; nothing else changes
        detail = render.render_cell_detail(session.report, session.evidence, session.findings, path,
                                           session.source_text)
        return review_view(session, status_html(f"修改未生效：{zh_error(exc)}", ok=False), [path], detail, value,
                           keep_cell=path, editing=path)
    after = get_cell(updated.report, path)
    detail = render.render_cell_detail(updated.report, updated.evidence, updated.findings, path, updated.source_text)
    message = status_html(edit_message(path, before, updated, changed=updated is not session))
    return review_view(updated, message, [path], detail, "" if after is None else str(after), keep_cell=path,
                       editing=path)


def on_confirm(service: ReviewService, session: ReviewSession | None, who: str) -> dict[str, Any]:
    """「确认」: save the report, its findings and every edit under the reviewer's name as a new version."""
    if session is None:
        return {"confirm_status": status_html("没有可确认的报告：请先提取", ok=False)}
    try:
        updated, record = service.confirm(session, who)
    except Exception as exc:
        return {"confirm_status": status_html(zh_error(exc), ok=False)}
    message = (f"已确认并保存：记录编号 {record.id}，版本 {record.version}，审核人 {record.reviewer}，"
               f"{record.confirmed_at}")
    saved = (f'<div class="nb-edits" data-count="0" style="color:#1b5e20;">{len(session.edits)} 处修改已随版本 '
             f'{record.version} 保存</div>')
    return {
        "session": updated,
        "confirm_status": status_html(message),
        "edits": saved,
        "records": records_rows(service),
        "summary": render.render_summary(updated.report, updated.evidence, updated.findings, updated.source_name,
                                         updated.engine, updated.base_version, 0),
    }


def on_page_load(caller: Caller) -> dict[str, Any]:
    """With a login, both 审核人 boxes (review screen, queue) show the logged-in user and cannot be changed
    (confirmations and edits are recorded under that name whatever a box says); without one, the reviewer
    fills them."""
    if not caller.username:
        return {}
    box = _update(value=caller.username, interactive=False)
    return {"reviewer": box, "queue_reviewer": box}


# ---- events
def wire(app: Any, service: ReviewService, c: Components) -> None:
    view = c.pick(REVIEW_VIEW)
    extract_inputs = [c["source_input"], c["upload"], c["engine"]]
    extract_event = c["extract_btn"].click(
        bind_request(c, on_extract, service, n_inputs=len(extract_inputs), caller=True, progress=True),
        extract_inputs, view, concurrency_limit=2, show_progress="full")
    c["cancel_btn"].click(bind_request(c, on_cancel, service, n_inputs=0, caller=True), None, [c["status"]],
                          cancels=[extract_event], queue=False)
    c["cell_dd"].input(bind(c, on_select_cell), [c["session"], c["cell_dd"]], c.pick(SELECT_CELL_VIEW),
                       concurrency_limit=None).then(None, js=SCROLL_TO_SELECTION_JS)
    c["finding_dd"].input(bind(c, on_select_finding), [c["session"], c["finding_dd"]], c.pick(SELECT_FINDING_VIEW),
                          concurrency_limit=None).then(None, js=SCROLL_TO_SELECTION_JS)
    # who edits and confirms: the logged-in user when the UI has a login, else the name typed
    edit_inputs = [c["session"], c["cell_dd"], c["new_value"], c["reviewer"]]
    edit = bind_request(c, on_edit, service, n_inputs=len(edit_inputs), reviewer_inputs=(3,))
    c["edit_btn"].click(edit, edit_inputs, view, concurrency_limit=None)
    c["new_value"].submit(edit, edit_inputs, view, concurrency_limit=None)
    confirm_inputs = [c["session"], c["reviewer"]]
    c["confirm_btn"].click(bind_request(c, on_confirm, service, n_inputs=len(confirm_inputs), reviewer_inputs=(1,)),
                           confirm_inputs, c.pick(CONFIRM_VIEW))
    app.load(bind_request(c, on_page_load, n_inputs=0, caller=True), None, c.pick(LOGIN_VIEW))
