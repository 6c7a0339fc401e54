"""The Gradio review app. ``build_app(service)`` builds the Blocks; nothing happens at import time.

Handlers are thin: they call ``ReviewService`` and render with ``ui.render``. Errors never escape as a
traceback: each handler turns them into the Chinese status line.

No ``from __future__ import annotations`` here: Gradio injects ``gr.Request`` / ``gr.Progress`` by the
handlers' evaluated annotations, and ``gr`` is imported inside ``build_app`` to keep import time free.
"""

import os
from typing import TYPE_CHECKING, Any

from extractor.engine_catalog import BY_NAME
from extractor.errors import ConfigError
from extractor.schema import get_cell
from ui import cell_edit, queue_app, render, views
from ui.access import LoginGuard, host_check_app_kwargs, reviewer_name
from ui.private_files import private_temp_root
from ui.queue import QueueService
from ui.service import UI_ENGINES, UPLOAD_SUFFIXES, ReviewService, ReviewSession, zh_error
from ui.wiring import Components

if TYPE_CHECKING:
    import gradio as gr

STAGE_ZH: dict[str, str] = {
    "start": "准备",
    "normalize": "规范化文本、识别版面",
    "read": "读取表格（大模型引擎可能需要数分钟，可随时取消）",
    "verify": "逐格核验证据、检查勾稽关系",
    "done": "完成",
}
ENGINE_CHOICES: list[tuple[str, str]] = [(BY_NAME[name].zh, name) for name in UI_ENGINES]
EXPORT_CHOICES: list[tuple[str, str]] = [("JSON", "json"), ("CSV（逐格）", "csv"), ("XLSX", "xlsx"),
                                          ("金标准文件（NAME.json + NAME.txt，zip）", "gold")]
RECORD_HEADERS = ["编号", "机关", "年度", "模板", "审核人", "确认时间", "版本", "修改数", "问题数", "来源"]
UPLOAD_LIMIT = "20mb"

CSS = """
.nb-status-error { color: #b71c1c; font-weight: bold; }
.nb-status-ok { color: #1b5e20; }
#nb-tables { overflow-x: auto; }
#nb-findings .nb-findings { max-height: 300px; overflow-y: auto; }
"""

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


def _gradio() -> Any:
    try:
        import gradio as gr
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError("gradio is not installed", hint="pip install 'gradio>=5'",
                          hint_zh="未安装 gradio：请运行 pip install gradio") from exc
    return gr


_status = views.status_html
_empty_view_html = views.empty_view_html


def build_app(service: ReviewService, batch_dir: str | None = None) -> "gr.Blocks":
    """The review app; with ``batch_dir`` it opens on that batch's review queue."""
    gr = _gradio()
    # before any component exists: each one fixes Gradio's file folder when it is made
    private_temp_root()
    c = Components()

    def full_view(session: ReviewSession | None, status_html: str, selected: list[str] | None = None,
                  detail: str = "", cell_value: str | None = None, keep_cell: str | None = None) -> tuple[Any, ...]:
        """Every output of the review screen, in VIEW_OUTPUTS order."""
        out = views.review_view(session, status_html, selected, detail, cell_value, keep_cell,
                                editing=keep_cell if selected == [keep_cell] else None)
        return tuple(out[name] for name in views.REVIEW_VIEW)

    with gr.Blocks(title="年报审核 · 政府信息公开工作年度报告", analytics_enabled=False) as app:
        session_state = gr.State(None)
        gr.Markdown("## 政府信息公开工作年度报告 · 审核\n"
                    "粘贴报告或上传文件（或在「批次队列」中打开批处理的报告）→ 提取 → 点击有疑问的格子查看证据，直接输入新值并回车"
                    "（↑↓ 上一个/下一个存疑格）→ 填写审核人并「确认」。")
        with gr.Tabs(selected="queue" if batch_dir else "review") as tabs:
            with gr.Tab("审核", id="review"):
                with gr.Row():
                    with gr.Column(scale=3):
                        source_input = gr.Textbox(label="粘贴报告全文", lines=8, max_lines=14, elem_id="nb-source-input",
                                                  placeholder="将政府信息公开工作年度报告全文粘贴到这里")
                    with gr.Column(scale=2):
                        upload = gr.File(label="或上传文件（txt / html / pdf / docx，不超过 20 MB）", type="filepath",
                                         file_types=list(UPLOAD_SUFFIXES), elem_id="nb-upload")
                        engine = gr.Radio(ENGINE_CHOICES, value=service.default_engine, label="提取引擎",
                                          elem_id="nb-engine")
                        with gr.Row():
                            extract_btn = gr.Button("提取", variant="primary", elem_id="nb-extract")
                            cancel_btn = gr.Button("取消", variant="stop", elem_id="nb-cancel")
                status = gr.HTML(elem_id="nb-status")
                queue_app.build_review_bar(gr, c)
                summary = gr.HTML(elem_id="nb-summary")
                with gr.Row():
                    with gr.Column(scale=5):
                        cell_edit.build_flagged_steps(gr, c)
                        tables = gr.HTML(_empty_view_html(), elem_id="nb-tables")
                    with gr.Column(scale=4):
                        findings_html = gr.HTML(elem_id="nb-findings")
                        finding_dd = gr.Dropdown(label="选择问题（查看证据与等式）", choices=[], value=None,
                                                 interactive=True, elem_id="nb-finding-select")
                        cell_dd = gr.Dropdown(label="选择单元格（查看证据与等式，或修改）", choices=[], value=None,
                                              interactive=True, filterable=True, elem_id="nb-cell-select")
                        detail = gr.HTML(elem_id="nb-detail")
                        with gr.Row():
                            new_value = gr.Textbox(label="新值（留空 = 空白单元格）", scale=3, elem_id="nb-new-value")
                            edit_btn = gr.Button("修改并重新核验", scale=2, elem_id="nb-apply-edit")
                        gr.Markdown("#### 原文（证据高亮；鼠标悬停可见对应单元格）")
                        source_view = gr.HTML(elem_id="nb-source-view")
                gr.Markdown("#### 本次修改")
                edits_html = gr.HTML(render.render_edits([]), elem_id="nb-edits")
                with gr.Row():
                    reviewer = gr.Textbox(label="审核人（必填）", scale=3, elem_id="nb-reviewer")
                    confirm_btn = gr.Button("确认", variant="primary", scale=1, elem_id="nb-confirm")
                    queue_app.build_confirm_next(gr, c)
                confirm_status = gr.HTML(elem_id="nb-confirm-status")

            queue_app.build_queue_tab(gr, c, batch_dir)

            with gr.Tab("已确认记录", id="records"):
                with gr.Row():
                    refresh_btn = gr.Button("刷新列表", elem_id="nb-refresh")
                records_df = gr.Dataframe(headers=RECORD_HEADERS, value=[], interactive=False, wrap=True,
                                          elem_id="nb-records")
                with gr.Row():
                    record_id = gr.Number(label="记录编号", precision=0, elem_id="nb-record-id")
                    reopen_btn = gr.Button("重新打开以审核", elem_id="nb-reopen")
                records_status = gr.HTML(elem_id="nb-records-status")
                with gr.Row():
                    export_fmt = gr.Radio(EXPORT_CHOICES, value="json", label="导出格式", elem_id="nb-export-format")
                    export_scope = gr.Textbox(label="只导出这些编号（逗号分隔；留空 = 全部）", elem_id="nb-export-ids")
                    export_btn = gr.Button("导出", elem_id="nb-export")
                export_file = gr.File(label="导出文件", interactive=False, elem_id="nb-export-file")

        view_outputs = [session_state, status, summary, tables, findings_html, source_view, finding_dd, cell_dd,
                        detail, new_value, edits_html]
        c.update(zip(views.REVIEW_VIEW, view_outputs))
        c.update(tabs=tabs, reviewer=reviewer, confirm_status=confirm_status)

        # ---- handlers
        def on_extract(text: str, file: str | None, engine_name: str, request: gr.Request,
                       progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
            token = service.cancel_token(getattr(request, "session_hash", None) or "default")

            def report_progress(stage: str, fraction: float) -> None:
                progress(fraction, desc=STAGE_ZH.get(stage, stage))

            try:
                doc = service.load_input(text, file)
                session = service.extract(doc, engine_name, progress=report_progress, cancel=token)
            except Exception as exc:  # every failure becomes a message; the previous view stays usable
                return full_view(None, _status(f"提取失败：{zh_error(exc)}", ok=False))
            if session.status != "ok":
                why = "这不是一份政府信息公开工作年度报告" if session.status == "not_a_report" else "提取失败"
                return full_view(None, _status(f"{why}：{session.error or ''}", ok=False))
            note = (f"；该报告已有确认记录（编号 {session.record_id}，版本 {session.base_version}），在此基础上确认将生成新版本"
                    if session.base_version else "")
            warn = f"；提示：{'；'.join(session.warnings)}" if session.warnings else ""
            msg = (f"提取完成：报告自身错误 {len(session.report_errors)} 条，提取存疑 {len(session.extraction_doubts)} 条"
                   f"{note}{warn}")
            return full_view(session, _status(msg))

        def on_cancel(request: gr.Request) -> str:
            service.cancel(getattr(request, "session_hash", None) or "default")
            return _status("已取消提取", ok=False)

        def on_select_cell(session: ReviewSession | None, path: str | None) -> tuple[Any, ...]:
            if session is None or not path:
                return gr.update(), gr.update(), gr.update(), gr.update()
            value = get_cell(session.report, path)
            return (
                render.render_tables(session.report, session.evidence, session.findings, [path], editing=path),
                render.render_source(session.source_text, session.evidence, [path]),
                render.render_cell_detail(session.report, session.evidence, session.findings, path, session.source_text),
                "" if value is None else str(value),
            )

        def on_select_finding(session: ReviewSession | None, index: str | None) -> tuple[Any, ...]:
            if session is None or index in (None, ""):
                return gr.update(), gr.update(), gr.update()
            i = int(str(index))
            if i >= len(session.findings):
                return gr.update(), gr.update(), gr.update()
            cells = session.findings[i].cells
            return (
                render.render_tables(session.report, session.evidence, session.findings, cells),
                render.render_source(session.source_text, session.evidence, cells),
                render.render_finding_detail(session.report, session.evidence, session.findings, i, session.source_text),
            )

        def on_edit(session: ReviewSession | None, path: str | None, value: str, who: str,
                    request: gr.Request) -> tuple[Any, ...]:
            who = reviewer_name(request, who)
            if session is None:
                return full_view(None, _status("请先提取一份报告", ok=False))
            if not path:
                return full_view(session, _status("请先在「选择单元格」中选一个格子", ok=False))
            before = get_cell(session.report, path)
            try:
                updated = service.edit_cell(session, path, value, who=who)
            except Exception as exc:
                return full_view(session, _status(f"修改未生效：{zh_error(exc)}", ok=False), [path],
                                 render.render_cell_detail(session.report, session.evidence, session.findings, path,
                                                           session.source_text),
                                 value, keep_cell=path)
            after = get_cell(updated.report, path)
            msg = _status(views.edit_message(path, before, updated, changed=updated is not session))
            return full_view(updated, msg, [path],
                             render.render_cell_detail(updated.report, updated.evidence, updated.findings, path,
                                                       updated.source_text),
                             "" if after is None else str(after), keep_cell=path)

        def records_rows() -> list[list[Any]]:
            return [[r.id, r.agency or "", r.year or "", r.template or "", r.reviewer, r.confirmed_at, r.version,
                     r.n_edits, r.n_findings, r.source_name or ""] for r in service.list_records()]

        def on_confirm(session: ReviewSession | None, who: str, request: gr.Request) -> tuple[Any, ...]:
            who = reviewer_name(request, who)
            if session is None:
                return session, _status("没有可确认的报告：请先提取", ok=False), gr.update(), gr.update(), gr.update()
            try:
                updated, record = service.confirm(session, who)
            except Exception as exc:
                return session, _status(zh_error(exc), ok=False), gr.update(), gr.update(), gr.update()
            msg = (f"已确认并保存：记录编号 {record.id}，版本 {record.version}，审核人 {record.reviewer}，"
                   f"{record.confirmed_at}")
            saved = (f'<div class="nb-edits" data-count="0" style="color:#1b5e20;">{len(session.edits)} 处修改已随版本 '
                     f'{record.version} 保存</div>')
            return (updated, _status(msg), saved, records_rows(),
                    render.render_summary(updated.report, updated.evidence, updated.findings, updated.source_name,
                                          updated.engine, updated.base_version, 0))

        def on_reopen(rid: float | None) -> tuple[Any, ...]:
            if rid is None:
                return (*full_view(None, _status("请输入记录编号", ok=False)), _status("请输入记录编号", ok=False),
                        gr.update())
            try:
                session = service.reopen(int(rid))
            except Exception as exc:
                msg = _status(f"无法打开：{zh_error(exc)}", ok=False)
                return (*full_view(None, msg), msg, gr.update())
            n_old = len(service.store.edits(int(rid)))
            msg = _status(f"已打开记录 {int(rid)}（版本 {session.base_version}，历史修改 {n_old} 处）；修改后再次确认将生成版本 "
                          f"{session.base_version + 1}")
            return (*full_view(session, msg), msg, gr.Tabs(selected="review"))

        def on_export(fmt: str, scope: str) -> tuple[Any, str]:
            try:
                ids = [int(x) for x in scope.replace("，", ",").split(",") if x.strip()] or None
                path = service.export(fmt, ids)  # type: ignore[arg-type]
            except ValueError:
                return None, _status("编号格式不对：请用逗号分隔的数字", ok=False)
            except Exception as exc:
                return None, _status(f"导出失败：{zh_error(exc)}", ok=False)
            return str(path), _status(f"已导出：{path.name}")

        extract_event = extract_btn.click(on_extract, [source_input, upload, engine], view_outputs,
                                          concurrency_limit=2, show_progress="full")
        cancel_btn.click(on_cancel, None, [status], cancels=[extract_event], queue=False)
        cell_dd.input(on_select_cell, [session_state, cell_dd], [tables, source_view, detail, new_value],
                      concurrency_limit=None).then(None, js=SCROLL_TO_SELECTION_JS)
        finding_dd.input(on_select_finding, [session_state, finding_dd], [tables, source_view, detail],
                         concurrency_limit=None).then(None, js=SCROLL_TO_SELECTION_JS)
        edit_btn.click(on_edit, [session_state, cell_dd, new_value, reviewer], view_outputs, concurrency_limit=None)
        new_value.submit(on_edit, [session_state, cell_dd, new_value, reviewer], view_outputs, concurrency_limit=None)
        confirm_btn.click(on_confirm, [session_state, reviewer],
                          [session_state, confirm_status, edits_html, records_df, summary])
        refresh_btn.click(records_rows, None, [records_df])
        reopen_btn.click(on_reopen, [record_id], [*view_outputs, records_status, tabs])
        export_btn.click(on_export, [export_fmt, export_scope], [export_file, records_status])
        app.load(records_rows, None, [records_df])
        cell_edit.wire(app, service, c)
        queue_app.wire(gr, app, QueueService(service), c)

        def logged_in_reviewer(request: gr.Request) -> tuple[Any, Any]:
            """With a login, both 审核人 boxes (review screen, queue) show the logged-in user and cannot be
            changed (confirmations and edits are recorded under that name whatever a box says); without
            one, the reviewer fills them."""
            username = getattr(request, "username", None)
            if not username:
                return gr.update(), gr.update()
            return gr.update(value=username, interactive=False), gr.update(value=username, interactive=False)

        app.load(logged_in_reviewer, None, [reviewer, c["queue_reviewer"]])
    return app


def auth_from_env() -> tuple[str, str] | None:
    """Login for a shared deployment: both NIANBAO_UI_USER and NIANBAO_UI_PASSWORD, or neither."""
    user = os.environ.get("NIANBAO_UI_USER") or ""
    password = os.environ.get("NIANBAO_UI_PASSWORD") or ""
    if bool(user) != bool(password):
        raise ConfigError("set both NIANBAO_UI_USER and NIANBAO_UI_PASSWORD, or neither",
                          hint_zh="登录需同时设置 NIANBAO_UI_USER 与 NIANBAO_UI_PASSWORD")
    return (user, password) if user else None


def launch(app: "gr.Blocks", host: str = "127.0.0.1", port: int | None = None, *,
           prevent_thread_lock: bool = False, quiet: bool = False) -> Any:
    """Serve the app: localhost by default (Host header checked there), login from the environment with
    attempts limited, 20 MB upload limit (uploads and exports are private: see build_app)."""
    auth = auth_from_env()
    guard = LoginGuard(*auth) if auth else None
    app.queue(default_concurrency_limit=4)
    return app.launch(
        server_name=host, server_port=port, auth=guard, auth_message="请登录年报审核系统" if auth else None,
        max_file_size=UPLOAD_LIMIT, share=False, prevent_thread_lock=prevent_thread_lock, quiet=quiet,
        show_error=False, css=CSS, ssr_mode=False, footer_links=[], inbrowser=False,
        app_kwargs=host_check_app_kwargs(host),
    )
