"""Cells edited where they stand: click a cell of the template table to choose it (its evidence, equations
and findings show as with the dropdown) and type its value in the table; Enter applies it and the checker
re-runs; ↑ / ↓ (or the two buttons) apply what was typed and move to the previous / next flagged cell;
Esc puts the value back. Clicking another cell also applies what was typed first, so typing is never
dropped silently; a value that does not parse stays in the box with the reason in the status line.

A value typed but not applied is never confirmed around: the page script holds back a click on 「确认」 /
「确认并下一份」, applies the value first, and the reviewer confirms again after seeing the re-check.

The page script (``PAGE_SCRIPT``) turns clicks and keys into a JSON action in a hidden textbox (the ids
below); the handlers here are plain functions over ``ReviewService``.
"""

from __future__ import annotations

from typing import Any

from extractor.schema import get_cell
from ui import render
from ui.service import ReviewService, ReviewSession, zh_error
from ui.views import REVIEW_VIEW, cell_view, edit_message, review_view, status_html
from ui.wiring import Components, action_box, bind_request, parse_action

CELL_ACTION_ID = "nb-cell-action"
QUEUE_ACTION_ID = "nb-queue-action"

# Installed once on page load. Listeners sit on the document, so they survive Gradio replacing the HTML.
PAGE_SCRIPT = """
() => {
  if (window.__nianbaoPage) return;
  window.__nianbaoPage = true;
  let seq = 0;
  const send = (id, action) => {
    const box = document.querySelector('#' + id + ' textarea, #' + id + ' input');
    if (!box) return;
    action.n = ++seq;
    box.value = JSON.stringify(action);
    box.dispatchEvent(new Event('input', {bubbles: true}));
  };
  const typed = () => {
    const input = document.querySelector('#nb-tables input.nb-cell-input');
    return input ? {path: input.dataset.path, value: input.value} : {};
  };
  document.addEventListener('click', (e) => {
    const open = e.target.closest('#nb-queue-list [data-open]');
    if (open) { e.preventDefault(); send('nb-queue-action', {open: open.dataset.open}); return; }
    const step = e.target.closest('#nb-prev-flagged, #nb-next-flagged');
    if (step) { send('nb-cell-action', {...typed(), go: step.id === 'nb-next-flagged' ? 'next' : 'prev'}); return; }
    const td = e.target.closest('#nb-tables td.cell[data-path]');
    if (!td || e.target.closest('input.nb-cell-input')) return;
    send('nb-cell-action', {...typed(), go: td.dataset.path});
  });
  // A value typed but not applied is applied before any confirmation: the confirm click is held back
  // (capture phase, before Gradio sees it) and the reviewer confirms again after seeing the re-check.
  window.addEventListener('click', (e) => {
    if (!e.target.closest || !e.target.closest('#nb-confirm, #nb-confirm-next')) return;
    const input = document.querySelector('#nb-tables input.nb-cell-input');
    if (!input || input.value === input.dataset.value) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    send('nb-cell-action', {path: input.dataset.path, value: input.value, go: '', before_confirm: true});
  }, true);
  document.addEventListener('keydown', (e) => {
    const input = e.target.closest ? e.target.closest('input.nb-cell-input') : null;
    if (!input) return;
    const here = {path: input.dataset.path, value: input.value};
    if (e.key === 'Enter') { e.preventDefault(); send('nb-cell-action', {...here, go: ''}); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); send('nb-cell-action', {...here, go: 'next'}); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); send('nb-cell-action', {...here, go: 'prev'}); }
    else if (e.key === 'Escape') { e.preventDefault(); input.value = input.dataset.value; }
  });
}
"""

# After the table is redrawn: put the caret in the cell being edited, and bring its evidence into view.
FOCUS_SCRIPT = """
() => {
  setTimeout(() => {
    const input = document.querySelector('#nb-tables input.nb-cell-input');
    if (input) { input.focus({preventScroll: true}); input.select(); input.scrollIntoView({block: 'nearest'}); }
    const el = document.getElementById('ev-selected');
    const pre = el ? el.closest('pre') : null;
    if (pre) pre.scrollTop += el.getBoundingClientRect().top - pre.getBoundingClientRect().top - pre.clientHeight / 2;
  }, 100);
}
"""


def step_flagged(session: ReviewSession, current: str | None, direction: int) -> str | None:
    """The flagged cell after (``direction`` 1) or before (-1) ``current`` in print order, wrapping
    around; from no cell (or an unflagged one), the nearest flagged cell that way. None when none is flagged."""
    flagged = render.flagged_cells(session.report, session.findings, session.evidence)
    if not flagged:
        return None
    order = session.cell_paths()
    if current in flagged:
        return flagged[(flagged.index(current) + direction) % len(flagged)]
    at = order.index(current) if current in order else -1
    if direction > 0:
        return next((p for p in flagged if order.index(p) > at), flagged[0])
    before = [p for p in flagged if 0 <= order.index(p) < at] if at >= 0 else []
    return before[-1] if before else flagged[-1]


def on_cell_action(service: ReviewService, session: ReviewSession | None, raw: str | None,
                   who: str | None) -> dict[str, Any]:
    """One click or key in the table: apply what was typed in the open cell (if it changed), then choose
    the cell the action names (a path, "next" / "prev" flagged, or "" to stay)."""
    if session is None or session.status != "ok":
        return {"status": status_html("请先提取或从队列打开一份报告", ok=False)}
    action = parse_action(raw)
    path = action.get("path") if isinstance(action.get("path"), str) else None
    value = action.get("value") if isinstance(action.get("value"), str) else None
    go = action.get("go") if isinstance(action.get("go"), str) else ""
    paths = session.cell_paths()
    if path is not None and path not in paths:
        path = None
    updated, message = session, ""
    if path is not None and value is not None:
        before = get_cell(session.report, path)
        try:
            updated = service.edit_cell(session, path, value, who=who)
        except Exception as exc:  # the typed value stays in its box; nothing else changes
            return cell_view(session, status_html(f"修改未生效：{zh_error(exc)}", ok=False), path, typed=value)
        if updated is not session or not go:  # Enter on an unchanged value says so
            message = edit_message(path, before, updated, changed=updated is not session)
    if go in ("next", "prev"):
        target = step_flagged(updated, path, 1 if go == "next" else -1)
        if target is None:
            return _stay(updated, path, message or "本报告没有存疑或标出的单元格")
    elif go:
        target = go if go in paths else None
        if target is None:
            return _stay(updated, path, message)
    else:
        target = path
    if target is None:
        return {"status": status_html(message or "请点击表格中的一个格子")}
    note = message or f"已选中 {render.cell_label(target)}：直接输入新值，回车确认；↑↓ 上一个/下一个存疑格"
    if action.get("before_confirm") is True and updated is not session:
        note += "。正在输入的值已先应用（尚未确认）：核对重新核验的结果后，请再点一次确认"
    return cell_view(updated, status_html(note), target)


def _stay(session: ReviewSession, path: str | None, message: str) -> dict[str, Any]:
    if path is None:
        return review_view(session, status_html(message or "请点击表格中的一个格子"))
    return cell_view(session, status_html(message or "值未改变"), path)


def build_flagged_steps(gr: Any, c: Components) -> None:
    """Buttons for the previous / next flagged cell (the page script handles their clicks, so that what
    was typed in the open cell is applied first)."""
    with gr.Row():
        c["prev_flagged_btn"] = gr.Button("◀ 上一个存疑格（↑）", size="sm", elem_id="nb-prev-flagged")
        c["next_flagged_btn"] = gr.Button("下一个存疑格（↓） ▶", size="sm", elem_id="nb-next-flagged")
    c["cell_action"] = action_box(gr, CELL_ACTION_ID)


def wire(app: Any, service: ReviewService, c: Components) -> None:
    """The page script, and the table's clicks and keys to ``on_cell_action``. ``always_last``: an action
    waits for the one before to finish with the session (no race on it), and one superseded while waiting is
    dropped; nothing typed is lost that way, because every action carries what the open cell holds."""
    inputs = [c["session"], c["cell_action"], c["reviewer"]]
    c["cell_action"].change(bind_request(c, on_cell_action, service, n_inputs=len(inputs), reviewer_inputs=(2,)),
                            inputs, c.pick(REVIEW_VIEW), trigger_mode="always_last", concurrency_limit=None,
                            show_progress="hidden").then(None, js=FOCUS_SCRIPT)
    app.load(None, None, None, js=PAGE_SCRIPT)
