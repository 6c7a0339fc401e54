"""The review queue in the app: the 批次队列 tab, the bar and 「确认并下一份」 on the review screen, and the
handlers behind them (module-level functions over ``QueueService``, returning outputs by component name).
"""

from __future__ import annotations

from typing import Any

from extractor.batch.confirmed import CONFIRMED_FORMATS
from ui import queue_render
from ui.render import render_edits
from ui.queue import QueueService
from ui.service import ReviewSession, zh_error
from ui.views import review_view, select_tab, status_html
from ui.wiring import Components, action_box, bind, bind_request, parse_action
from ui.cell_edit import FOCUS_SCRIPT, QUEUE_ACTION_ID

QUEUE_VIEW: tuple[str, ...] = ("batch", "queue_progress", "queue_list", "queue_status", "clean_keys", "bulk_btn")
OPEN_VIEW: tuple[str, ...] = ("session", "status", "summary", "tables", "findings", "source", "finding_dd",
                              "cell_dd", "detail", "new_value", "edits", "tabs", "queue_bar", "confirm_status",
                              *QUEUE_VIEW)
EXPORT_CHOICES: list[tuple[str, str]] = [("CSV（每份报告一行）", "csv"), ("XLSX（报告 + 发现）", "xlsx"),
                                          ("JSONL（与 results.jsonl 同格式）", "jsonl")]
assert {v for _l, v in EXPORT_CHOICES} == set(CONFIRMED_FORMATS)


def _update(**kwargs: Any) -> Any:
    import gradio as gr

    return gr.update(**kwargs)


# ---- handlers
def queue_view(qs: QueueService, directory: str | None, status: str = "", ok: bool = True) -> dict[str, Any]:
    """The queue tab for ``directory``: progress, the list, and the clean reports bulk confirmation takes."""
    try:
        queue = qs.load(directory)
    except Exception as exc:
        return {"queue_status": status_html(f"无法打开批次：{zh_error(exc)}", ok=False)}
    clean = queue.clean_keys()
    return {
        "batch": str(queue.directory),
        "queue_progress": queue_render.render_progress(queue.progress, queue.directory),
        "queue_list": queue_render.render_queue(queue),
        "queue_status": status_html(status, ok) if status else "",
        "clean_keys": clean,
        "bulk_btn": _update(value=f"批量确认无疑问的报告（{len(clean)} 份）", interactive=bool(clean)),
    }


def on_open_batch(qs: QueueService, directory: str | None) -> dict[str, Any]:
    out = queue_view(qs, directory)
    if "batch" in out:
        out["queue_status"] = status_html("已打开批次：点「打开」逐份审核，需人工核对的排在前面")
    return out


def on_refresh(qs: QueueService, directory: str | None) -> dict[str, Any]:
    if not directory:
        return {}
    return queue_view(qs, directory)


def _open(qs: QueueService, directory: str | None, key: str, done: str = "") -> dict[str, Any]:
    """Open one report of the queue on the review screen, as a pasted report would show."""
    try:
        session = qs.open_item(directory, key)
    except Exception as exc:
        out = queue_view(qs, directory, f"{done}无法打开：{zh_error(exc)}", ok=False)
        out["tabs"] = select_tab("queue")
        return out
    queue = qs.load(directory)
    state = "（已确认，可修改后再次确认）" if session.base_version else ""
    warn = f"；提示：{'；'.join(session.warnings)}" if session.warnings else ""
    message = (f"{done}已打开 {session.source_name}{state}：报告自身错误 {len(session.report_errors)} 条，"
               f"提取存疑 {len(session.extraction_doubts)} 条；点击表格中的格子即可查看证据并直接修改{warn}")
    # the list itself is redrawn when its tab is shown again, not on every report (it grows with the batch)
    out = review_view(session, status_html(message))
    out.update(tabs=select_tab("review"), queue_bar=queue_render.render_bar(queue, session), confirm_status="")
    return out


def on_queue_action(qs: QueueService, directory: str | None, raw: str | None) -> dict[str, Any]:
    key = parse_action(raw).get("open")
    if not isinstance(key, str) or not key:
        return {}
    return _open(qs, directory, key)


def on_open_next(qs: QueueService, directory: str | None) -> dict[str, Any]:
    try:
        item = qs.load(directory).next_to_review()
    except Exception as exc:
        return {"queue_status": status_html(f"无法打开批次：{zh_error(exc)}", ok=False)}
    if item is None:
        return queue_view(qs, directory, "本批次的报告已全部确认")
    return _open(qs, directory, item.key)


def on_confirm_next(qs: QueueService, session: ReviewSession | None, reviewer: str | None,
                    directory: str | None) -> dict[str, Any]:
    """「确认并下一份」: save this report (tied to its batch line), then open the next one still to review."""
    if session is None or session.status != "ok":
        return {"confirm_status": status_html("没有可确认的报告：请先从队列打开一份", ok=False)}
    try:
        confirmed, record = qs.confirm(session, reviewer)
    except Exception as exc:
        return {"confirm_status": status_html(zh_error(exc), ok=False)}
    done = f"已确认 {session.source_name or '报告'}（记录 {record.id}，版本 {record.version}，{len(session.edits)} 处修改）。"
    if not directory:
        return {"confirm_status": status_html(done + "未打开批次，没有下一份"), "session": confirmed,
                "edits": render_edits([])}
    try:
        item = qs.load(directory).next_to_review(after=session.origin.source_path if session.origin else None)
    except Exception as exc:
        return {"confirm_status": status_html(f"{done}无法读取批次：{zh_error(exc)}", ok=False)}
    if item is None:
        out = review_view(None, status_html(done + "本批次的报告已全部确认"))
        out.update(queue_view(qs, directory, done + "本批次的报告已全部确认"))
        out.update(tabs=select_tab("queue"), queue_bar="", confirm_status=status_html(done))
        return out
    out = _open(qs, directory, item.key, done)
    out["confirm_status"] = status_html(done)
    return out


def on_bulk_confirm(qs: QueueService, directory: str | None, reviewer: str | None, queue_reviewer: str | None,
                    clean_keys: list[str] | None) -> dict[str, Any]:
    """Confirm, unchanged, the reports listed as 无疑问 when the list was last shown."""
    name = (queue_reviewer or "").strip() or (reviewer or "").strip()
    if not clean_keys:
        return queue_view(qs, directory, "没有无疑问且未确认的报告", ok=False)
    try:
        outcome = qs.confirm_clean(directory, name, list(clean_keys))
    except Exception as exc:
        return queue_view(qs, directory, zh_error(exc), ok=False)
    skipped = "；".join(f"{k.rsplit('/', 1)[-1]}：{why}" for k, why in outcome.skipped[:5])
    message = f"已批量确认 {len(outcome.confirmed)} 份无疑问的报告" + (
        f"；跳过 {len(outcome.skipped)} 份（{skipped}）" if outcome.skipped else "")
    return queue_view(qs, directory, message, ok=not outcome.skipped)


def on_export(qs: QueueService, directory: str | None, fmt: str) -> dict[str, Any]:
    try:
        path = qs.export(directory, fmt)
    except Exception as exc:
        return {"queue_export_file": None, "queue_status": status_html(f"导出失败：{zh_error(exc)}", ok=False)}
    return {"queue_export_file": str(path), "queue_status": status_html(f"已导出已确认的报告：{path.name}")}


def _same(value: str | None, other: str | None) -> Any:
    return _update() if value == other else value


# ---- layout
def build_review_bar(gr: Any, c: Components) -> None:
    """The queue bar on the review screen (empty for a pasted report)."""
    c["queue_bar"] = gr.HTML(elem_id="nb-queue-bar")


def build_confirm_next(gr: Any, c: Components) -> None:
    c["confirm_next_btn"] = gr.Button("确认并下一份", variant="primary", scale=1, elem_id="nb-confirm-next")


def build_queue_tab(gr: Any, c: Components, batch_dir: str | None) -> None:
    with gr.Tab("批次队列", id="queue") as tab:
        c["queue_tab"] = tab
        c["batch"] = gr.State(batch_dir)
        c["clean_keys"] = gr.State([])
        gr.Markdown("打开 `nianbao batch --out` 的输出目录：报告按需要人工核对的程度排序（提取存疑 → 报告自身错误 → 无疑问）。"
                    "逐份「打开」核对并「确认并下一份」；看过列表后，可一次确认全部无疑问的报告。")
        with gr.Row():
            c["batch_dir"] = gr.Textbox(value=batch_dir or "", label="批处理输出目录（含 results.jsonl）", scale=4,
                                        elem_id="nb-batch-dir")
            c["open_batch_btn"] = gr.Button("打开批次", scale=1, elem_id="nb-open-batch")
            c["queue_refresh_btn"] = gr.Button("刷新", scale=1, elem_id="nb-queue-refresh")
        c["queue_progress"] = gr.HTML(elem_id="nb-queue-progress")
        c["queue_status"] = gr.HTML(elem_id="nb-queue-status")
        with gr.Row():
            c["open_next_btn"] = gr.Button("打开下一份待审", variant="primary", elem_id="nb-open-next")
            c["queue_reviewer"] = gr.Textbox(label="审核人（批量确认用；与审核页同步）", elem_id="nb-queue-reviewer")
            c["bulk_btn"] = gr.Button("批量确认无疑问的报告", interactive=False, elem_id="nb-bulk-confirm")
        c["queue_list"] = gr.HTML(elem_id="nb-queue-list")
        c["queue_action"] = action_box(gr, QUEUE_ACTION_ID)
        with gr.Row():
            c["queue_export_format"] = gr.Radio(EXPORT_CHOICES, value="csv", label="导出已确认的报告",
                                                elem_id="nb-queue-export-format")
            c["queue_export_btn"] = gr.Button("导出", elem_id="nb-queue-export")
        c["queue_export_file"] = gr.File(label="导出文件", interactive=False, elem_id="nb-queue-export-file")


# ---- events
def wire(gr: Any, app: Any, qs: QueueService, c: Components) -> None:
    open_outputs = c.pick(OPEN_VIEW)
    queue_outputs = c.pick(QUEUE_VIEW)
    c["open_batch_btn"].click(bind(c, on_open_batch, qs), [c["batch_dir"]], queue_outputs)
    c["batch_dir"].submit(bind(c, on_open_batch, qs), [c["batch_dir"]], queue_outputs)
    c["queue_refresh_btn"].click(bind(c, on_refresh, qs), [c["batch"]], queue_outputs)
    c["queue_tab"].select(bind(c, on_refresh, qs), [c["batch"]], queue_outputs)
    c["queue_action"].change(bind(c, on_queue_action, qs), [c["batch"], c["queue_action"]], open_outputs,
                             trigger_mode="always_last").then(None, js=FOCUS_SCRIPT)
    c["open_next_btn"].click(bind(c, on_open_next, qs), [c["batch"]], open_outputs)
    # who confirms: the logged-in user when the UI has a login, else the name typed (ui.access.reviewer_name)
    next_inputs = [c["session"], c["reviewer"], c["batch"]]
    c["confirm_next_btn"].click(bind_request(c, on_confirm_next, qs, n_inputs=len(next_inputs), reviewer_inputs=(1,)),
                                next_inputs, open_outputs).then(None, js=FOCUS_SCRIPT)
    bulk_inputs = [c["batch"], c["reviewer"], c["queue_reviewer"], c["clean_keys"]]
    c["bulk_btn"].click(bind_request(c, on_bulk_confirm, qs, n_inputs=len(bulk_inputs), reviewer_inputs=(1, 2)),
                        bulk_inputs, queue_outputs)
    c["queue_export_btn"].click(bind(c, on_export, qs), [c["batch"], c["queue_export_format"]],
                                [c["queue_export_file"], c["queue_status"]])
    # one reviewer name for both screens (setting the other to an equal value is no change, so it stops there)
    c["queue_reviewer"].change(_same, [c["queue_reviewer"], c["reviewer"]], [c["reviewer"]], queue=False)
    c["reviewer"].change(_same, [c["reviewer"], c["queue_reviewer"]], [c["queue_reviewer"]], queue=False)
    app.load(bind(c, on_refresh, qs), [c["batch"]], queue_outputs)
