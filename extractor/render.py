"""Rich rendering of an extraction for the terminal: the three tables with flagged cells, then findings."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from extractor.findings import Evidence, Finding
from extractor.result import ExtractionResult
from extractor.schema import get_cell
from extractor.template_spec import (
    ACTIVE_ROWS,
    ALL_APPLICATION_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
)

_STYLE = {"grounded": "", "blank": "dim", "mismatch": "bold red", "unsupported": "bold magenta"}


# The applicant columns as 政务公开 offices abbreviate them in their own summary tables.
_SHORT_COLUMN: dict[str, str] = {"商业企业": "商业", "科研机构": "科研", "社会公益组织": "公益", "法律服务机构": "法律"}


def _cell(value: object, path: str, evidence: dict[str, Evidence], failed: set[str]) -> Text:
    shown = "—" if value is None else str(value)
    ev = evidence.get(path)
    style = _STYLE.get(ev.status, "") if ev else ""
    mark = ""
    if ev is not None and ev.status in ("mismatch", "unsupported"):
        mark = "?"
    elif path in failed:
        style = (style + " yellow").strip()
        mark = "!"
    return Text(shown + mark, style=style)


def render_result(result: ExtractionResult) -> Group:
    r = result.report
    ev = result.evidence
    failed = {c for f in result.findings if f.rule.startswith("R") for c in f.cells}
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{r.agency or '（未识别机关）'}  ", style="bold")
    head.append(f"{r.year or '?'} 年度  模板 {r.template or '?'}  引擎 {result.meta.get('engine', '?')}")
    parts.append(head)

    if r.active_disclosure is not None and r.template:
        t2 = Table(title="二、主动公开政府信息情况", title_justify="left", show_lines=False)
        t2.add_column("信息内容")
        t2.add_column("数值")
        for key, label, fields in ACTIVE_ROWS[r.template]:
            cells = Text(" / ").join(
                _cell(get_cell(r, f"active_disclosure.{key}.{f}"), f"active_disclosure.{key}.{f}", ev, failed)
                for f, _fl, kind in fields if kind != "unit"
            )
            t2.add_row(label, cells)
        parts.append(t2)

    if r.applications is not None:
        # Full applicant names do not fit eight columns into 80 characters: rich cut them to 「自…」「商…」.
        t3 = Table(title="三、收到和处理政府信息公开申请情况", title_justify="left",
                   caption="列：" + "、".join(APPLICANT_COLUMNS), caption_justify="left")
        t3.add_column("", min_width=16, max_width=24, no_wrap=True, overflow="ellipsis")
        for col in APPLICANT_COLUMNS:
            short = _SHORT_COLUMN.get(col, col)
            t3.add_column(short, justify="right", no_wrap=True, min_width=2 * len(short))
        for key in r.application_keys():
            row = r.applications.get(key)
            label = ALL_APPLICATION_LABELS[key].split(" ")[-1]
            if row is None:
                t3.add_row(label, *[Text("—", style="dim")] * 7)
                continue
            t3.add_row(label, *[_cell(v, f"applications.{key}[{i}]", ev, failed) for i, v in enumerate(row)])
        parts.append(t3)

    if r.review_litigation is not None:
        t4 = Table(title="四、政府信息公开行政复议、行政诉讼情况", title_justify="left")
        t4.add_column("")
        for _c, clabel in REVIEW_COLUMNS:
            t4.add_column(clabel, justify="right")
        for gkey, glabel in REVIEW_GROUPS:
            t4.add_row(glabel, *[
                _cell(get_cell(r, f"review_litigation.{gkey}.{c}"), f"review_litigation.{gkey}.{c}", ev, failed)
                for c, _ in REVIEW_COLUMNS
            ])
        parts.append(t4)

    parts.append(render_findings(result.findings))
    return Group(*parts)


def render_findings(findings: list[Finding]) -> Table:
    table = Table(title=f"检查结果（{len(findings)} 条）  ? = 原文无依据  ! = 所在等式不成立", title_justify="left")
    table.add_column("规则")
    table.add_column("级别")
    table.add_column("归因")
    table.add_column("说明")
    for f in findings:
        who = "报告自身错误" if f.attribution == "report" else "提取存疑"
        style = {"error": "red", "warning": "yellow", "info": "dim"}[f.severity]
        table.add_row(f.rule, Text(f.severity, style=style), who, f.message)
    if not findings:
        table.add_row("—", "", "", "未发现问题：所有数字均有原文依据，表内关系成立")
    return table


def print_result(result: ExtractionResult, console: Console | None = None) -> None:
    (console or Console()).print(render_result(result))
