"""HTML of the review queue: progress, the list of the batch's reports, and the bar above a report opened
from the queue. All text is escaped (agency names and paths come from files)."""

from __future__ import annotations

from pathlib import Path

from ui.queue import (
    STATE_CLEAN,
    STATE_CONFIRMED,
    STATE_DOUBT,
    STATE_REPORT_ERRORS,
    STATE_UNREADABLE,
    STATE_ZH,
    VIA_ZH,
    BatchQueue,
    QueueItem,
    QueueProgress,
)
from ui.render import esc
from ui.service import ReviewSession

STATE_COLOUR: dict[str, str] = {
    STATE_DOUBT: "#c0392b",
    STATE_REPORT_ERRORS: "#b9770e",
    STATE_CLEAN: "#2e7d32",
    STATE_UNREADABLE: "#777",
    STATE_CONFIRMED: "#1c64f2",
}
_TD = "border:1px solid #ccc;padding:3px 6px;"
_TH = _TD + "background:#f4f4f4;font-weight:normal;text-align:left;"


def render_progress(p: QueueProgress, directory: Path | None = None) -> str:
    """已确认 / 逐份审核 / 剩余, as numbers a person reads and attributes a test reads."""
    share = f"{100 * p.confirmed // p.reviewable}%" if p.reviewable else "—"
    bar = (f'<div style="background:#e4e4e4;height:8px;border-radius:4px;margin:4px 0;max-width:480px;">'
           f'<div style="background:#1c64f2;height:8px;border-radius:4px;width:{share if p.reviewable else "0%"};"></div></div>')
    where = f'<div style="color:#666;font-size:12px;">批次：{esc(directory)}</div>' if directory else ""
    return (f'<div class="nb-queue-progress" data-total="{p.total}" data-confirmed="{p.confirmed}" '
            f'data-reviewed="{p.reviewed}" data-remaining="{p.remaining}" data-clean="{p.clean}" '
            f'data-needing-person="{p.needing_person}" data-unreadable="{p.unreadable}">{where}'
            f"<b>已确认 {p.confirmed} / {p.reviewable} 份（{share}）</b> · 其中逐份审核 {p.reviewed} 份、批量确认 "
            f"{p.confirmed - p.reviewed} 份 · 剩余 <b>{p.remaining}</b> 份（需人工核对 {p.needing_person}，无疑问 {p.clean}）"
            + (f" · 无法审核 {p.unreadable} 份" if p.unreadable else "") + bar + "</div>")


def _confirmed_cell(item: QueueItem) -> str:
    work = item.confirmed
    if work is None:
        return ""
    return (f"{esc(work.reviewer)} · {esc(VIA_ZH.get(work.via, work.via))}<br>"
            f'<span style="color:#666;font-size:12px;">{esc(work.confirmed_at)} · 记录 {work.record_id} 版本 {work.version}</span>')


def _row(index: int, item: QueueItem) -> str:
    state = item.state
    badge = (f'<span style="color:#fff;background:{STATE_COLOUR[state]};padding:0 6px;border-radius:3px;'
             f'white-space:nowrap;">{esc(STATE_ZH[state])}</span>')
    if item.reviewable:
        action = (f'<button type="button" class="nb-q-open" data-open="{esc(item.key)}" '
                  f'aria-label="{esc("打开 " + (item.agency or item.name))}" style="padding:0 10px;">'
                  f'{"查看" if state == STATE_CONFIRMED else "打开"}</button>')
    else:
        action = f'<span style="color:#777;font-size:12px;">{esc(item.error or item.status)}</span>'
    dup = (f'<br><span style="color:#666;font-size:12px;">另有相同文件 {len(item.duplicate_paths)} 份</span>'
           if item.duplicate_paths else "")
    num = (lambda n: f"<b>{n}</b>" if n else '<span style="color:#999;">0</span>')
    return (f'<tr class="nb-q-row" data-key="{esc(item.key)}" data-state="{state}">'
            f'<td style="{_TD}">{index}</td><td style="{_TD}">{badge}</td>'
            f'<td style="{_TD}white-space:nowrap;">{esc(item.agency or "（未识别机关）")}</td>'
            f'<td style="{_TD}">{esc(item.year or "")}</td>'
            f'<td style="{_TD}">{esc(item.template or "")}</td>'
            f'<td style="{_TD}text-align:right;" data-col="report_errors">{num(item.n_report_errors) if item.reviewable else ""}</td>'
            f'<td style="{_TD}text-align:right;" data-col="extraction_doubts">{num(item.n_extraction_doubts) if item.reviewable else ""}</td>'
            f'<td style="{_TD}font-size:12px;" title="{esc(item.key)}">{esc(item.name)}{dup}</td>'
            f'<td style="{_TD}">{_confirmed_cell(item)}</td><td style="{_TD}">{action}</td></tr>')


def render_queue(queue: BatchQueue) -> str:
    """The batch's reports, a person's work first: 提取存疑, then 报告自身错误, then 无疑问 (what bulk
    confirmation takes), the files that could not be read, and what is already confirmed."""
    head = "".join(f'<th style="{_TH}">{h}</th>' for h in
                   ("#", "状态", "机关", "年度", "模板", "报告自身错误", "提取存疑", "文件", "确认", ""))
    rows = "".join(_row(i, item) for i, item in enumerate(queue.items, start=1))
    if not rows:
        rows = f'<tr><td colspan="10" style="{_TD}color:#888;">批次中没有报告</td></tr>'
    return (f'<div class="nb-queue" style="max-height:640px;overflow:auto;">'
            f'<table class="nb-queue-table" style="border-collapse:collapse;font-size:13px;width:100%;">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def render_bar(queue: BatchQueue | None, session: ReviewSession | None) -> str:
    """Above a report opened from the queue: which batch, which report of how many, what is left."""
    if queue is None or session is None or session.origin is None:
        return ""
    key = session.origin.source_path
    position = queue.position(key)
    p = queue.progress
    here = f"第 {position + 1} / {len(queue.items)} 份" if position >= 0 else "（已不在本批次中）"
    return (f'<div class="nb-queue-bar" data-key="{esc(key)}" data-remaining="{p.remaining}" '
            f'style="background:#eef3fe;border:1px solid #c3d4fb;padding:4px 8px;border-radius:4px;">'
            f"批次队列 · {esc(here)} · {esc(Path(key).name)} · 已确认 {p.confirmed} / {p.reviewable} · 剩余 {p.remaining}"
            f"（点「确认并下一份」保存本份并打开队列中的下一份）</div>")
