"""What the review screen shows for a session, as outputs keyed by component name.

Handlers return ``dict[str, Any]`` keyed by the names below; ``ui.wiring`` maps the names to the
Gradio components, so a handler is a plain module-level function over a service, testable without a
browser, and returns only what it changes.
"""

from __future__ import annotations

from typing import Any

from extractor.schema import CellValue, get_cell
from ui import render
from ui.service import ReviewSession

# the review screen's outputs: every handler that shows a report (extract, edit, open, reopen) changes these
REVIEW_VIEW: tuple[str, ...] = ("session", "status", "summary", "tables", "findings", "source", "finding_dd",
                                "cell_dd", "detail", "new_value", "edits")


def _update(**kwargs: Any) -> Any:
    import gradio as gr

    return gr.update(**kwargs)


def select_tab(tab_id: str) -> Any:
    """The app's tabs with ``tab_id`` shown."""
    import gradio as gr

    return gr.Tabs(selected=tab_id)


def status_html(message: str, ok: bool = True) -> str:
    cls = "nb-status-ok" if ok else "nb-status-error"
    return f'<div class="{cls}" data-ok="{str(ok).lower()}">{render.esc(message)}</div>'


def empty_view_html() -> str:
    return '<div style="color:#888;">粘贴报告全文或上传文件，然后点「提取」。</div>'


def cell_choices(session: ReviewSession) -> list[tuple[str, str]]:
    return [(render.cell_choice_label(session.report, session.evidence, p), p) for p in session.cell_paths()]


def finding_choices(session: ReviewSession) -> list[tuple[str, str]]:
    return [(render.finding_choice_label(f), str(i)) for i, f in enumerate(session.findings)]


def review_view(session: ReviewSession | None, status: str, selected: list[str] | None = None, detail: str = "",
                cell_value: str | None = None, keep_cell: str | None = None, editing: str | None = None,
                editing_value: str | None = None) -> dict[str, Any]:
    """Every output of the review screen. ``editing`` is the cell shown as a text box in the table."""
    if session is None or session.status != "ok":
        return {"session": session, "status": status, "summary": "", "tables": empty_view_html(), "findings": "",
                "source": "", "finding_dd": _update(choices=[], value=None), "cell_dd": _update(choices=[], value=None),
                "detail": "", "new_value": "", "edits": render.render_edits([])}
    chosen = selected or []
    return {
        "session": session,
        "status": status,
        "summary": render.render_summary(session.report, session.evidence, session.findings, session.source_name,
                                         session.engine, session.base_version, len(session.edits)),
        "tables": render.render_tables(session.report, session.evidence, session.findings, chosen, editing,
                                       editing_value),
        "findings": render.render_findings(session.findings),
        "source": render.render_source(session.source_text, session.evidence, chosen),
        "finding_dd": _update(choices=finding_choices(session), value=None),
        "cell_dd": _update(choices=cell_choices(session), value=keep_cell),
        "detail": detail,
        "new_value": "" if cell_value is None else cell_value,
        "edits": render.render_edits(session.edits),
    }


def cell_view(session: ReviewSession, status: str, path: str, typed: str | None = None) -> dict[str, Any]:
    """The review screen with one cell chosen and open for typing: its evidence, equations and findings
    in the detail panel, its evidence marked in the source. ``typed`` keeps a refused value in the box."""
    value = get_cell(session.report, path)
    shown = "" if value is None else str(value)
    detail = render.render_cell_detail(session.report, session.evidence, session.findings, path, session.source_text)
    return review_view(session, status, [path], detail, typed if typed is not None else shown, keep_cell=path,
                       editing=path, editing_value=typed)


def _shown(value: CellValue) -> str:
    return "空" if value is None else str(value)


def edit_message(path: str, before: CellValue, updated: ReviewSession, changed: bool) -> str:
    """The status line after an edit: what changed and what the re-check found."""
    if not changed:
        return "值未改变"
    after = get_cell(updated.report, path)
    return (f"已修改 {render.cell_label(path)}：{_shown(before)} → {_shown(after)}；重新核验：报告自身错误 "
            f"{len(updated.report_errors)} 条，提取存疑 {len(updated.extraction_doubts)} 条")
