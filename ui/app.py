"""The Gradio review app. ``build_app(service)`` builds the components and wires them to the handlers; nothing
happens at import time.

The handlers are module-level functions over ``ReviewService`` (``ui.review_app``, ``ui.cell_edit``,
``ui.queue_app``, ``ui.records_app``) that return outputs keyed by component name, each component
registered under its name in ``Components`` (``ui.wiring``) as it is built here; ``ui.wiring`` also gives a
handler the logged-in user, the browser session and the progress bar where it asks for them. Errors never
escape as a traceback: each handler turns them into the Chinese status line. ``gr`` is imported inside
``build_app`` to keep import time free.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from extractor.engine_catalog import BY_NAME
from extractor.errors import ConfigError
from extractor.exports import RECORD_FORMATS
from ui import cell_edit, queue_app, records_app, render, review_app, views
from ui.access import LoginGuard, host_check_app_kwargs
from ui.private_files import private_temp_root
from ui.queue import QueueService
from ui.service import UI_ENGINES, UPLOAD_SUFFIXES, ReviewService
from ui.wiring import Components

if TYPE_CHECKING:
    import gradio as gr

ENGINE_CHOICES: list[tuple[str, str]] = [(BY_NAME[name].zh, name) for name in UI_ENGINES]
EXPORT_CHOICES: list[tuple[str, str]] = [("JSON", "json"), ("CSV（逐格）", "csv"), ("XLSX", "xlsx"),
                                          ("金标准文件（NAME.json + NAME.txt，zip）", "gold")]
assert [v for _l, v in EXPORT_CHOICES] == list(RECORD_FORMATS)
UPLOAD_LIMIT = "20mb"

CSS = """
.nb-status-error { color: #b71c1c; font-weight: bold; }
.nb-status-ok { color: #1b5e20; }
#nb-tables { overflow-x: auto; }
#nb-findings .nb-findings { max-height: 300px; overflow-y: auto; }
"""


def _gradio() -> Any:
    try:
        import gradio as gr
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError("gradio is not installed", hint="pip install 'gradio>=5'",
                          hint_zh="未安装 gradio：请运行 pip install gradio") from exc
    return gr


def build_app(service: ReviewService, batch_dir: str | None = None) -> gr.Blocks:
    """The review app; with ``batch_dir`` it opens on that batch's review queue."""
    gr = _gradio()
    # before any component exists: each one fixes Gradio's file folder when it is made
    private_temp_root()
    c = Components()
    with gr.Blocks(title="年报审核 · 政府信息公开工作年度报告", analytics_enabled=False) as app:
        c["session"] = gr.State(None)
        gr.Markdown("## 政府信息公开工作年度报告 · 审核\n"
                    "粘贴报告或上传文件（或在「批次队列」中打开批处理的报告）→ 提取 → 点击有疑问的格子查看证据，直接输入新值并回车"
                    "（↑↓ 上一个/下一个存疑格）→ 填写审核人并「确认」。")
        with gr.Tabs(selected="queue" if batch_dir else "review") as tabs:
            c["tabs"] = tabs
            with gr.Tab("审核", id="review"):
                _build_review_tab(gr, c, service.default_engine)
            queue_app.build_queue_tab(gr, c, batch_dir)
            with gr.Tab("已确认记录", id="records"):
                _build_records_tab(gr, c)

        review_app.wire(app, service, c)
        cell_edit.wire(app, service, c)
        queue_app.wire(gr, app, QueueService(service), c)
        records_app.wire(app, service, c)
    return app


def _build_review_tab(gr: Any, c: Components, default_engine: str) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            c["source_input"] = gr.Textbox(label="粘贴报告全文", lines=8, max_lines=14, elem_id="nb-source-input",
                                           placeholder="将政府信息公开工作年度报告全文粘贴到这里")
        with gr.Column(scale=2):
            c["upload"] = gr.File(label="或上传文件（txt / html / pdf / docx，不超过 20 MB）", type="filepath",
                                  file_types=list(UPLOAD_SUFFIXES), elem_id="nb-upload")
            c["engine"] = gr.Radio(ENGINE_CHOICES, value=default_engine, label="提取引擎", elem_id="nb-engine")
            with gr.Row():
                c["extract_btn"] = gr.Button("提取", variant="primary", elem_id="nb-extract")
                c["cancel_btn"] = gr.Button("取消", variant="stop", elem_id="nb-cancel")
    c["status"] = gr.HTML(elem_id="nb-status")
    queue_app.build_review_bar(gr, c)
    c["summary"] = gr.HTML(elem_id="nb-summary")
    with gr.Row():
        with gr.Column(scale=5):
            cell_edit.build_flagged_steps(gr, c)
            c["tables"] = gr.HTML(views.empty_view_html(), elem_id="nb-tables")
        with gr.Column(scale=4):
            c["findings"] = gr.HTML(elem_id="nb-findings")
            c["finding_dd"] = gr.Dropdown(label="选择问题（查看证据与等式）", choices=[], value=None, interactive=True,
                                          elem_id="nb-finding-select")
            c["cell_dd"] = gr.Dropdown(label="选择单元格（查看证据与等式，或修改）", choices=[], value=None,
                                       interactive=True, filterable=True, elem_id="nb-cell-select")
            c["detail"] = gr.HTML(elem_id="nb-detail")
            with gr.Row():
                c["new_value"] = gr.Textbox(label="新值（留空 = 空白单元格）", scale=3, elem_id="nb-new-value")
                c["edit_btn"] = gr.Button("修改并重新核验", scale=2, elem_id="nb-apply-edit")
            gr.Markdown("#### 原文（证据高亮；鼠标悬停可见对应单元格）")
            c["source"] = gr.HTML(elem_id="nb-source-view")
    gr.Markdown("#### 本次修改")
    c["edits"] = gr.HTML(render.render_edits([]), elem_id="nb-edits")
    with gr.Row():
        c["reviewer"] = gr.Textbox(label="审核人（必填）", scale=3, elem_id="nb-reviewer")
        c["confirm_btn"] = gr.Button("确认", variant="primary", scale=1, elem_id="nb-confirm")
        queue_app.build_confirm_next(gr, c)
    c["confirm_status"] = gr.HTML(elem_id="nb-confirm-status")


def _build_records_tab(gr: Any, c: Components) -> None:
    with gr.Row():
        c["refresh_btn"] = gr.Button("刷新列表", elem_id="nb-refresh")
    c["records"] = gr.Dataframe(headers=records_app.RECORD_HEADERS, value=[], interactive=False, wrap=True,
                                elem_id="nb-records")
    with gr.Row():
        c["record_id"] = gr.Number(label="记录编号", precision=0, elem_id="nb-record-id")
        c["reopen_btn"] = gr.Button("重新打开以审核", elem_id="nb-reopen")
    c["records_status"] = gr.HTML(elem_id="nb-records-status")
    with gr.Row():
        c["export_format"] = gr.Radio(EXPORT_CHOICES, value="json", label="导出格式", elem_id="nb-export-format")
        c["export_ids"] = gr.Textbox(label="只导出这些编号（逗号分隔；留空 = 全部）", elem_id="nb-export-ids")
        c["export_btn"] = gr.Button("导出", elem_id="nb-export")
    c["export_file"] = gr.File(label="导出文件", interactive=False, elem_id="nb-export-file")


def auth_from_env() -> tuple[str, str] | None:
    """Login for a shared deployment: both NIANBAO_UI_USER and NIANBAO_UI_PASSWORD, or neither."""
    user = os.environ.get("NIANBAO_UI_USER") or ""
    password = os.environ.get("NIANBAO_UI_PASSWORD") or ""
    if bool(user) != bool(password):
        raise ConfigError("set both NIANBAO_UI_USER and NIANBAO_UI_PASSWORD, or neither",
                          hint_zh="登录需同时设置 NIANBAO_UI_USER 与 NIANBAO_UI_PASSWORD")
    return (user, password) if user else None


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = None, *,
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
