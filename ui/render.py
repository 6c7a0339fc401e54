"""HTML for the review screen: the three tables as the national template prints them, the findings,
and the source text with evidence highlighted.

Every piece of report or source text goes through ``html.escape``: the source is shown as text, never
as HTML. Colours are inline styles so the tables read the same wherever the HTML is shown.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from extractor.findings import Evidence, Finding, doubted_cells
from extractor.review_store import CellEdit
from extractor.schema import CellValue, Report, get_cell
from extractor.template_spec import (
    ACTIVE_BLOCKS,
    ACTIVE_ROWS,
    ALL_APPLICATION_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMNS,
    SECTION_TITLES,
    cell_label,
)
from ui.equations import ARITHMETIC_RULES, equations_for, equations_for_finding, format_equation

STATUS_ZH: dict[str, str] = {
    "grounded": "已核实",
    "mismatch": "与原文不符",
    "unsupported": "原文无依据",
    "blank": "空白",
    "unknown": "未核验",
}
STATUS_BG: dict[str, str] = {
    "grounded": "#d3f0d3",
    "mismatch": "#f7c5c5",
    "unsupported": "#f7c5c5",
    "blank": "#e4e4e4",
    "unknown": "#ffffff",
}
MARK_BG: dict[str, str] = {"grounded": "#c8ecc8", "mismatch": "#f5b5b5", "unsupported": "#f5b5b5", "blank": "#e4e4e4"}
RULE_OUTLINE = "#f08c00"
SELECTED_OUTLINE = "#1c64f2"
SEVERITY_ZH: dict[str, str] = {"error": "错误", "warning": "警告", "info": "提示"}
ATTRIBUTION_ZH: dict[str, str] = {"report": "报告自身错误", "extraction": "提取存疑"}
SECTION_SHORT: dict[str, str] = {"active_disclosure": "二", "applications": "三", "review_litigation": "四"}

_TABLE = 'border-collapse:collapse;margin:4px 0 14px 0;font-size:13px;'
_TD = "border:1px solid #999;padding:3px 6px;"
_TH = _TD + "background:#f4f4f4;font-weight:normal;text-align:center;min-width:3.2em;"
_LABEL = _TD + "text-align:left;"

PARTIAL_LABEL = "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def failed_rule_cells(findings: Iterable[Finding]) -> set[str]:
    """Cells taking part in a failed arithmetic rule (orange outline)."""
    return {c for f in findings if f.rule.startswith(ARITHMETIC_RULES) for c in f.cells}


def flagged_cells(report: Report, findings: Sequence[Finding], evidence: dict[str, Evidence]) -> list[str]:
    """The cells the table marks for a person, in print order: doubted (grounding doubts them, or an
    extraction finding names them) or in a failed equation. The keyboard's next/previous flagged cell
    walks this list."""
    from extractor.schema import iter_cells

    marked = doubted_cells(findings, evidence) | failed_rule_cells(findings)
    return [path for path, _value in iter_cells(report) if path in marked]


def cell_status(evidence: dict[str, Evidence], path: str, value: CellValue) -> str:
    ev = evidence.get(path)
    if ev is not None:
        return ev.status
    return "blank" if value is None else "unknown"


# ---- tables
class _CellRenderer:
    def __init__(self, report: Report, evidence: dict[str, Evidence], findings: Sequence[Finding],
                 selected: Iterable[str], editing: str | None = None, editing_value: str | None = None) -> None:
        self.report = report
        self.evidence = evidence
        self.rule_cells = failed_rule_cells(findings)
        self.flagged = set(flagged_cells(report, findings, evidence))
        self.editing = editing
        self.editing_value = editing_value
        self.finding_count: dict[str, int] = {}
        for f in findings:
            for c in f.cells:
                self.finding_count[c] = self.finding_count.get(c, 0) + 1
        self.selected = set(selected)

    def td(self, path: str, colspan: int = 1, present: bool = True) -> str:
        span = f' colspan="{colspan}"' if colspan > 1 else ""
        if not present:
            return f'<td{span} style="{_TD}background:#f0f0f0;color:#999;" data-path="{esc(path)}" data-status="absent">—</td>'
        value = get_cell(self.report, path)
        status = cell_status(self.evidence, path, value)
        style = f"{_TD}text-align:center;min-width:2.2em;background:{STATUS_BG.get(status, '#fff')};"
        classes = ["cell", f"st-{status}"]
        if path in self.rule_cells:
            style += f"box-shadow:inset 0 0 0 3px {RULE_OUTLINE};"
            classes.append("rule-failed")
        if path in self.flagged:
            classes.append("flagged")
            if path not in self.rule_cells and status not in ("mismatch", "unsupported"):
                # named by an extraction finding only: marked so that it does not look settled
                style += f"outline:2px dashed {RULE_OUTLINE};outline-offset:-3px;"
        if path in self.selected:
            style += f"outline:3px solid {SELECTED_OUTLINE};outline-offset:-1px;font-weight:bold;"
            classes.append("selected")
        ev = self.evidence.get(path)
        tip = [cell_label(path), STATUS_ZH.get(status, status)]
        if ev is not None and ev.source_value is not None and status == "mismatch":
            tip.append(f"原文为 {ev.source_value}")
        if self.finding_count.get(path):
            tip.append(f"{self.finding_count[path]} 条问题")
        shown = "" if value is None else str(value)
        if path == self.editing:
            # typed in place: Enter applies, ↑/↓ move to the previous/next flagged cell (ui.cell_edit's script)
            typed = shown if self.editing_value is None else self.editing_value
            shown_html = (f'<input class="nb-cell-input" type="text" inputmode="decimal" autocomplete="off" '
                          f'data-path="{esc(path)}" value="{esc(typed)}" data-value="{esc(shown)}" '
                          f'aria-label="{esc("修改 " + cell_label(path) + "（回车确认，↑↓ 上一个/下一个存疑格）")}" '
                          f'style="width:4.2em;text-align:center;font:inherit;font-weight:bold;border:1px solid '
                          f'{SELECTED_OUTLINE};padding:1px 2px;">')
            classes.append("editing")
        else:
            shown_html = esc(shown)
        return (f'<td{span} class="{" ".join(classes)}" style="{style}" data-path="{esc(path)}" '
                f'data-status="{esc(status)}" title="{esc(" · ".join(tip))}">{shown_html}</td>')


def render_tables(report: Report, evidence: dict[str, Evidence], findings: Sequence[Finding],
                  selected: Iterable[str] = (), editing: str | None = None, editing_value: str | None = None) -> str:
    """The three tables; ``editing`` is the cell shown as a text box to type into (its value
    ``editing_value`` when the reviewer's typing must survive a refused edit)."""
    r = _CellRenderer(report, evidence, findings, selected, editing, editing_value)
    parts = [legend_html()]
    parts.append(_section_two(report, r))
    parts.append(_section_three(report, r))
    parts.append(_section_four(report, r))
    return '<div class="nb-tables">' + "".join(parts) + "</div>"


def legend_html() -> str:
    def chip(bg: str, text: str, extra: str = "") -> str:
        return (f'<span style="display:inline-block;padding:1px 8px;margin-right:8px;border:1px solid #999;'
                f'background:{bg};{extra}">{esc(text)}</span>')

    return ('<div class="nb-legend" style="margin:4px 0 8px 0;font-size:12px;">'
            + chip(STATUS_BG["grounded"], "已在原文核实")
            + chip(STATUS_BG["mismatch"], "与原文不符 / 原文无依据")
            + chip(STATUS_BG["blank"], "空白")
            + chip("#fff", "算术规则不成立", f"box-shadow:inset 0 0 0 3px {RULE_OUTLINE};")
            + chip("#fff", "当前选中", f"outline:3px solid {SELECTED_OUTLINE};")
            + "</div>")


def _title(n: int) -> str:
    return f'<h4 style="margin:10px 0 2px 0;">{esc(SECTION_TITLES[n])}</h4>'


def _section_two(report: Report, r: _CellRenderer) -> str:
    out = [_title(2)]
    ad = report.active_disclosure
    template = report.template or ("2019" if ad is not None and type(ad).__name__.endswith("2019") else "2021")
    if ad is None:
        return out[0] + '<p style="color:#999">（报告未包含此部分）</p>'
    specs = {spec[0]: spec for spec in ACTIVE_ROWS[template]}
    width = 4
    rows: list[str] = []
    for caption, row_keys in ACTIVE_BLOCKS[template]:
        rows.append(f'<tr><th colspan="{width}" style="{_TH}">{esc(caption)}</th></tr>')
        fields = specs[row_keys[0]][2]
        # 2019 procurement prints two value columns; its unit gets the third so it can be reviewed
        head = "".join(
            f'<th style="{_TH}"{_span(len(fields), width)}>{esc(label if kind != "unit" else "（单位）")}</th>'
            for _k, label, kind in fields)
        rows.append(f'<tr><th style="{_TH}">信息内容</th>{head}{_pad(len(fields), width)}</tr>')
        for row_key in row_keys:
            label = specs[row_key][1]
            present = getattr(ad, row_key, None) is not None
            cells = "".join(
                r.td(f"active_disclosure.{row_key}.{fkey}", colspan=_colspan(len(fields), width), present=present)
                for fkey, _l, _kind in fields)
            missing = "" if present else '<span style="color:#999">（报告未列此行）</span>'
            rows.append(f'<tr><td style="{_LABEL}">{esc(label)}{missing}</td>{cells}{_pad(len(fields), width)}</tr>')
    out.append(f'<table class="nb-table nb-two" style="{_TABLE}">' + "".join(rows) + "</table>")
    return "".join(out)


def _colspan(n_fields: int, width: int) -> int:
    # a single value column spans all three, as the template prints 本年处理决定数量
    return width - 1 if n_fields == 1 else 1


def _span(n_fields: int, width: int) -> str:
    c = _colspan(n_fields, width)
    return f' colspan="{c}"' if c > 1 else ""


def _pad(n_fields: int, width: int) -> str:
    used = 1 + (width - 1 if n_fields == 1 else n_fields)
    return "".join(f'<td style="{_TD}"></td>' for _ in range(width - used))


def _section_three(report: Report, r: _CellRenderer) -> str:
    out = [_title(3)]
    apps = report.applications
    if apps is None:
        return out[0] + '<p style="color:#999">（报告未包含此部分）</p>'
    keys = report.application_keys()
    head = (
        f'<tr><th colspan="3" rowspan="3" style="{_TH}">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</th>'
        f'<th colspan="7" style="{_TH}">申请人情况</th></tr>'
        f'<tr><th rowspan="2" style="{_TH}">自然人</th><th colspan="5" style="{_TH}">法人或其他组织</th>'
        f'<th rowspan="2" style="{_TH}">总计</th></tr>'
        "<tr>" + "".join(f'<th style="{_TH}">{esc(c)}</th>' for c in APPLICANT_COLUMNS[1:6]) + "</tr>"
    )
    result_keys = [k for k in keys if k not in ("new_received", "carried_over", "carried_forward")]
    rows: list[str] = []

    def cells(key: str) -> str:
        present = apps.get(key) is not None
        return "".join(r.td(f"applications.{key}[{i}]", present=present) for i in range(7))

    for key in ("new_received", "carried_over"):
        if key in keys:
            rows.append(f'<tr><td colspan="3" style="{_LABEL}">{esc(ALL_APPLICATION_LABELS[key])}</td>{cells(key)}</tr>')
    # 三、本年度办理结果: a rowspan label, then group labels （三）（四）（五）（六） spanning their sub-rows
    group_of: dict[str, tuple[str, str]] = {}
    current_group = ""
    for k in result_keys:
        label = ALL_APPLICATION_LABELS[k]
        if " " in label:
            current_group, sub = label.split(" ", 1)
            group_of[k] = (current_group, sub)
        elif label[:1] == "（":
            current_group = ""
            group_of[k] = ("", PARTIAL_LABEL if k == "partially_granted" else label)
        else:
            group_of[k] = (current_group, label)
    group_sizes: dict[str, int] = {}
    for g, _ in group_of.values():
        if g:
            group_sizes[g] = group_sizes.get(g, 0) + 1
    started: set[str] = set()
    for i, k in enumerate(result_keys):
        g, sub = group_of[k]
        lead = f'<td rowspan="{len(result_keys)}" style="{_LABEL}width:5em;">三、本年度办理结果</td>' if i == 0 else ""
        if g:
            grp = "" if g in started else f'<td rowspan="{group_sizes[g]}" style="{_LABEL}">{esc(g)}</td>'
            started.add(g)
            rows.append(f'<tr>{lead}{grp}<td style="{_LABEL}">{esc(sub)}</td>{cells(k)}</tr>')
        else:
            rows.append(f'<tr>{lead}<td colspan="2" style="{_LABEL}">{esc(sub)}</td>{cells(k)}</tr>')
    if "carried_forward" in keys:
        rows.append(f'<tr><td colspan="3" style="{_LABEL}">{esc(ALL_APPLICATION_LABELS["carried_forward"])}</td>'
                    f'{cells("carried_forward")}</tr>')
    out.append(f'<table class="nb-table nb-three" style="{_TABLE}">{head}{"".join(rows)}</table>')
    return "".join(out)


def _section_four(report: Report, r: _CellRenderer) -> str:
    out = [_title(4)]
    rl = report.review_litigation
    if rl is None:
        return out[0] + '<p style="color:#999">（报告未包含此部分）</p>'
    col_heads = "".join(f'<th style="{_TH}">{esc(label)}</th>' for _k, label in REVIEW_COLUMNS)
    head = (
        f'<tr><th colspan="5" style="{_TH}">行政复议</th><th colspan="10" style="{_TH}">行政诉讼</th></tr>'
        + "<tr>" + "".join(f'<th rowspan="2" style="{_TH}">{esc(label)}</th>' for _k, label in REVIEW_COLUMNS)
        + f'<th colspan="5" style="{_TH}">未经复议直接起诉</th><th colspan="5" style="{_TH}">复议后起诉</th></tr>'
        + f"<tr>{col_heads}{col_heads}</tr>"
    )
    values = "".join(
        r.td(f"review_litigation.{group}.{col}", present=getattr(rl, group) is not None)
        for group in ("review", "litigation_direct", "litigation_after_review") for col, _l in REVIEW_COLUMNS)
    out.append(f'<table class="nb-table nb-four" style="{_TABLE}">{head}<tr>{values}</tr></table>')
    return "".join(out)


# ---- findings
def _finding_html(f: Finding, index: int) -> str:
    sev = SEVERITY_ZH.get(f.severity, f.severity)
    colour = {"error": "#c0392b", "warning": "#b9770e", "info": "#555"}.get(f.severity, "#555")
    cells = "、".join(cell_label(c) for c in f.cells[:6]) + ("…" if len(f.cells) > 6 else "")
    return (f'<li class="finding" data-index="{index}" data-rule="{esc(f.rule)}" style="margin:3px 0;">'
            f'<span style="color:#fff;background:{colour};padding:0 5px;border-radius:3px;font-size:12px;">{esc(sev)}</span> '
            f'<code>{esc(f.rule)}</code> {esc(f.message)}'
            + (f'<br><span style="color:#666;font-size:12px;">涉及：{esc(cells)}</span>' if cells else "")
            + "</li>")


def render_findings(findings: Sequence[Finding]) -> str:
    """Two groups: the agency's own numbers disagree (报告自身错误) / our reading is not proven (提取存疑)."""
    blocks: list[str] = []
    for attribution in ("report", "extraction"):
        items = [(i, f) for i, f in enumerate(findings) if f.attribution == attribution]
        title = ATTRIBUTION_ZH[attribution]
        explain = ("报告所印数字自相矛盾（所有相关数字均在原文核实）" if attribution == "report"
                   else "提取的数值未能在原文中得到证实，需要人工核对")
        body = ("<ul style='margin:4px 0 4px 18px;padding:0;'>" + "".join(_finding_html(f, i) for i, f in items) + "</ul>"
                if items else '<p style="color:#2e7d32;margin:4px 0;">无</p>')
        blocks.append(f'<div class="nb-findings-group" data-attribution="{attribution}" style="margin-bottom:8px;">'
                      f'<h4 style="margin:4px 0;">{esc(title)}（{len(items)}）</h4>'
                      f'<div style="color:#666;font-size:12px;">{esc(explain)}</div>{body}</div>')
    return '<div class="nb-findings">' + "".join(blocks) + "</div>"


# ---- source text
def render_source(text: str, evidence: dict[str, Evidence], selected: Iterable[str] = ()) -> str:
    """The source as escaped text in a <pre>, each evidence span wrapped in a <mark>."""
    chosen = set(selected)
    spans: dict[tuple[int, int], list[tuple[str, Evidence]]] = {}
    for path, ev in evidence.items():
        if ev.start is None or ev.end is None or not (0 <= ev.start < ev.end <= len(text)):
            continue
        spans.setdefault((ev.start, ev.end), []).append((path, ev))
    out: list[str] = []
    pos = 0
    first_selected = True
    for (start, end), items in sorted(spans.items()):
        if start < pos:  # overlaps a span already drawn; its cells still show in the tables
            continue
        out.append(esc(text[pos:start]))
        statuses = {ev.status for _p, ev in items}
        status = "mismatch" if statuses & {"mismatch", "unsupported"} else next(iter(statuses))
        paths = [p for p, _ev in items]
        is_sel = bool(chosen & set(paths))
        style = f"background:{MARK_BG.get(status, '#eee')};padding:0 1px;border-radius:2px;"
        attrs = ""
        if is_sel:
            style += f"outline:2px solid {SELECTED_OUTLINE};background:#ffe08a;font-weight:bold;"
            if first_selected:
                attrs = ' id="ev-selected"'
                first_selected = False
        title = "；".join(f"{cell_label(p)}（{STATUS_ZH.get(ev.status, ev.status)}）" for p, ev in items[:4])
        if len(items) > 4:
            title += f"；等 {len(items)} 格"
        out.append(f'<mark{attrs} class="ev ev-{status}{" ev-sel" if is_sel else ""}" style="{style}" '
                   f'data-paths="{esc(" ".join(paths))}" title="{esc(title)}">{esc(text[start:end])}</mark>')
        pos = end
    out.append(esc(text[pos:]))
    return ('<pre class="nb-source" style="white-space:pre-wrap;word-break:break-all;max-height:520px;overflow:auto;'
            'font-size:13px;line-height:1.5;border:1px solid #ccc;padding:8px;background:#fcfcfc;">'
            + "".join(out) + "</pre>")


def _context(text: str, ev: Evidence | None, radius: int = 40) -> str:
    if ev is None or ev.start is None or ev.end is None or not (0 <= ev.start <= ev.end <= len(text)):
        return ""
    a, b = max(0, ev.start - radius), min(len(text), ev.end + radius)
    return ('<div style="font-family:monospace;white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;'
            'padding:4px 6px;margin:4px 0;">…' + esc(text[a:ev.start])
            + f'<mark style="background:#ffe08a;outline:2px solid {SELECTED_OUTLINE};">{esc(text[ev.start:ev.end])}</mark>'
            + esc(text[ev.end:b]) + "…</div>")


def _evidence_line(path: str, report: Report, evidence: dict[str, Evidence], source_text: str) -> str:
    value = get_cell(report, path)
    ev = evidence.get(path)
    status = cell_status(evidence, path, value)
    bits = [f"<b>{esc(cell_label(path))}</b> <code>{esc(path)}</code>",
            f"值：<b>{esc('空' if value is None else value)}</b>",
            f'<span style="background:{STATUS_BG.get(status, "#fff")};padding:0 4px;">{esc(STATUS_ZH.get(status, status))}</span>']
    if ev is not None and ev.text is not None and ev.start is not None:
        bits.append(f"原文「{esc(ev.text)}」（第 {ev.start} 字起）")
    if ev is not None and ev.source_value is not None and status == "mismatch":
        bits.append(f"原文此处为 <b>{esc(ev.source_value)}</b>")
    if ev is not None and ev.reader:
        bits.append(f"来源：{esc({'human': '人工修改', 'template': '模板读取', 'llm': '大模型'}.get(ev.reader, ev.reader))}")
    if ev is not None and ev.note:
        bits.append(esc(ev.note))
    if ev is not None and ev.alternatives:
        # readings the source also allows at this place (a glued run that splits several ways); None: blank
        bits.append('<span class="nb-alternatives">其他可能的读法：'
                    + "、".join(f"<b>{esc('空' if a is None else a)}</b>" for a in ev.alternatives) + "</span>")
    return "；".join(bits) + _context(source_text, ev)


def render_cell_detail(report: Report, evidence: dict[str, Evidence], findings: Sequence[Finding], path: str,
                       source_text: str) -> str:
    """What the reviewer sees after choosing a cell: its evidence, the equations it enters, its findings."""
    parts = ['<div class="nb-detail" data-path="' + esc(path) + '">', _evidence_line(path, report, evidence, source_text)]
    eqs = equations_for(report, path)
    if eqs:
        parts.append("<div style='margin-top:6px;'><b>所在等式</b><ul style='margin:2px 0 2px 18px;padding:0;'>"
                     + "".join(f"<li>{esc(format_equation(eq, report, focus=path))}</li>" for eq in eqs) + "</ul></div>")
    else:
        parts.append("<div style='margin-top:6px;color:#666;'>此格不参与求和规则（表二没有官方求和规则）。</div>")
    related = [f for f in findings if path in f.cells]
    if related:
        parts.append("<div><b>相关问题</b><ul style='margin:2px 0 2px 18px;padding:0;'>"
                     + "".join(_finding_html(f, findings.index(f)) for f in related) + "</ul></div>")
    parts.append("</div>")
    return "".join(parts)


def render_finding_detail(report: Report, evidence: dict[str, Evidence], findings: Sequence[Finding], index: int,
                          source_text: str) -> str:
    f = findings[index]
    parts = ['<div class="nb-detail" data-finding="' + str(index) + '">',
             f"<div><b>{esc(ATTRIBUTION_ZH.get(f.attribution, f.attribution))}</b> · {esc(SEVERITY_ZH.get(f.severity, f.severity))}"
             f" · <code>{esc(f.rule)}</code>（{esc({'official': '官方规则', 'derived': '表格结构推出', 'heuristic': '经验规则'}.get(f.authority, f.authority))}）</div>",
             f"<div style='margin:4px 0;'>{esc(f.message)}</div>"]
    if f.expected is not None or f.found is not None:
        parts.append(f"<div>应为：<b>{esc(f.expected)}</b>；报告/提取值：<b>{esc(f.found)}</b></div>")
    eqs = equations_for_finding(report, f.rule, f.cells)
    if eqs:
        parts.append("<div style='margin-top:6px;'><b>等式</b><ul style='margin:2px 0 2px 18px;padding:0;'>"
                     + "".join(f"<li>{esc(format_equation(eq, report))}</li>" for eq in eqs) + "</ul></div>")
    if f.cells:
        parts.append("<div style='margin-top:6px;'><b>证据</b><ul style='margin:2px 0 2px 18px;padding:0;'>"
                     + "".join(f"<li>{_evidence_line(c, report, evidence, source_text)}</li>" for c in f.cells[:12])
                     + "</ul></div>")
    parts.append("</div>")
    return "".join(parts)


def render_summary(report: Report, evidence: dict[str, Evidence], findings: Sequence[Finding],
                   source_name: str | None, engine: str, base_version: int, n_edits: int) -> str:
    counts: dict[str, int] = {}
    for ev in evidence.values():
        counts[ev.status] = counts.get(ev.status, 0) + 1
    n_report = sum(1 for f in findings if f.attribution == "report")
    n_extract = sum(1 for f in findings if f.attribution == "extraction")
    head = "、".join(x for x in (report.agency, f"{report.year} 年度" if report.year else None,
                                f"{report.template} 版模板" if report.template else None) if x)
    version = f"已有确认记录，当前版本 {base_version}" if base_version else "尚未确认"
    return (f'<div class="nb-summary" data-report-errors="{n_report}" data-extraction-doubts="{n_extract}">'
            f"<b>{esc(head or '（未识别机关/年度）')}</b> · 来源：{esc(source_name or '粘贴文本')} · 引擎：{esc(engine)} · {esc(version)}<br>"
            f"报告自身错误 <b>{n_report}</b> 条 · 提取存疑 <b>{n_extract}</b> 条 · "
            f"已核实 {counts.get('grounded', 0)} 格 · 不符/无依据 {counts.get('mismatch', 0) + counts.get('unsupported', 0)} 格 · "
            f"空白 {counts.get('blank', 0)} 格 · 本次修改 {n_edits} 处</div>")


def render_edits(edits: Sequence[CellEdit]) -> str:
    if not edits:
        return '<div class="nb-edits" data-count="0" style="color:#666;">尚无修改</div>'
    rows = "".join(
        f'<tr><td style="{_TD}">{i}</td><td style="{_TD}">{esc(cell_label(e.path))}</td><td style="{_TD}"><code>{esc(e.path)}</code></td>'
        f'<td style="{_TD}">{esc("空" if e.before is None else e.before)}</td><td style="{_TD}">{esc("空" if e.after is None else e.after)}</td>'
        f'<td style="{_TD}">{esc(e.at)}</td></tr>'
        for i, e in enumerate(edits, start=1))
    return (f'<table class="nb-edits" data-count="{len(edits)}" style="{_TABLE}"><tr><th style="{_TH}">#</th><th style="{_TH}">单元格</th>'
            f'<th style="{_TH}">路径</th><th style="{_TH}">修改前</th><th style="{_TH}">修改后</th><th style="{_TH}">时间</th></tr>{rows}</table>')


def cell_choice_label(report: Report, evidence: dict[str, Evidence], path: str) -> str:
    value = get_cell(report, path)
    status = cell_status(evidence, path, value)
    mark = {"grounded": "✓", "mismatch": "✗", "unsupported": "✗", "blank": "·"}.get(status, "?")
    shown = "空" if value is None else str(value)
    return f"{SECTION_SHORT.get(path.split('.')[0], '')}·{cell_label(path)} = {shown} {mark}"


def finding_choice_label(f: Finding) -> str:
    msg = f.message if len(f.message) <= 60 else f.message[:59] + "…"
    return f"[{ATTRIBUTION_ZH.get(f.attribution, f.attribution)}] {f.rule} {msg}"
