"""The checks behind the template's arithmetic, domain and form rules (template.md §7) and grounding's
findings, each failure attributed. Which rule id runs which check is listed in ``extractor.rules``.

A failed rule is a **report error** when every operand is grounded in the source (the agency's own
printed numbers disagree) and an **extraction error** when some operand is not (we may have misread).
The checker reads only the report and the evidence; it never calls a reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from extractor.equations import Equation
from extractor.findings import Attribution, Evidence, Finding
from extractor.schema import CellValue, Report, get_cell
from extractor.sections import DocumentLayout
from extractor.template_spec import SECTION_TITLES, cell_label

_GROUNDED = {"grounded", "blank"}


Values = Mapping[str, CellValue]


def _v(values: Values, path: str) -> int:
    value = values.get(path)
    return value if isinstance(value, int) else 0


def attribution_for(cells: list[str], evidence: Mapping[str, Evidence]) -> Attribution:
    """``extraction`` when any operand is not grounded (we may have misread it), else ``report``."""
    for c in cells:
        ev = evidence.get(c)
        if ev is not None and ev.status not in _GROUNDED:
            return "extraction"
    return "report"


def _equation(vals: Values, evidence: Mapping[str, Evidence], eq: Equation) -> Finding | None:
    """lhs sum == rhs sum; ``eq.target`` is the cell whose expected value the finding reports."""
    lhs, rhs, target = list(eq.lhs), list(eq.rhs), eq.target
    cells = lhs + rhs
    values = [vals.get(c) for c in cells]
    if all(v is None for v in values):
        return None
    left = sum(_v(vals, c) for c in lhs)
    right = sum(_v(vals, c) for c in rhs)
    if left == right:
        return None
    has_blank = any(v is None for v in values)
    found = vals.get(target)
    if target in lhs:
        expected = right - (left - _v(vals, target))
    else:
        expected = left - (right - _v(vals, target))
    attribution = attribution_for(cells, evidence)
    blank_note = "（含空白单元格，按 0 计算）" if has_blank else ""
    return Finding(
        rule=eq.rule, authority=eq.authority, severity="warning" if has_blank else "error",
        attribution=attribution, cells=cells, expected=expected, found=found if isinstance(found, int) else None,
        message=f"{eq.message}：{left} ≠ {right}{blank_note}",
    )


def equation_findings(rule: str, equations: Sequence[Equation], values: Values,
                      evidence: Mapping[str, Evidence]) -> list[Finding]:
    """R3.1, R3.2, R3.3, R4.1: each equation of ``rule`` (of the report's layout) that fails, in order."""
    return [f for eq in equations if eq.rule == rule and (f := _equation(values, evidence, eq)) is not None]


def _domain_rule(path: str) -> str:
    return "R3.4" if path.startswith("applications") else "R4.2" if path.startswith("review") else "R2.1"


def domain_findings(rule: str, values: Values, evidence: Mapping[str, Evidence]) -> list[Finding]:
    """R3.4 (table 三), R4.2 (table 四), R2.1 (table 二): a number that is negative where it may not be, or
    not a number at all."""
    out: list[Finding] = []
    for path, value in values.items():
        if value is None or path.endswith("amount_unit") or _domain_rule(path) != rule:
            continue
        signed = path.endswith(".change")
        bad = None
        if isinstance(value, str):
            try:
                if Decimal(value) < 0:
                    bad = "不应为负数"
            except InvalidOperation:
                bad = "不是数字"
        elif value < 0 and not signed:
            bad = "不应为负数"
        if bad:
            out.append(Finding(rule=rule, authority="derived", severity="error",
                               attribution=attribution_for([path], evidence),
                               cells=[path], expected=None, found=value, message=f"{cell_label(path)} {bad}（{value}）"))
    return out


def form_findings(report: Report, layout: DocumentLayout | None) -> list[Finding]:
    """R-F1: the format the year calls for, a 2021 table printing one row for 其他处理, the six headings."""
    out: list[Finding] = []
    if report.template and report.year:
        expected = "2019" if report.year <= 2020 else "2021"
        if report.template != expected:
            lenient = report.year == 2019
            out.append(Finding(
                rule="R-F1", authority="official", severity="info" if lenient else "warning", attribution="report",
                cells=[], expected=expected, found=report.template,
                message=f"{report.year} 年度报告应使用 {expected} 年版格式，实际使用 {report.template} 年版"
                + ("（2019 年度仅鼓励使用统一格式）" if lenient else ""),
            ))
    if report.template == "2021" and report.applications and "other_processing" in report.applications:
        out.append(Finding(rule="R-F1", authority="derived", severity="info", attribution="report", cells=[],
                           message="2021 年版报告只印了一行「（六）其他处理」，未分列三个子项"))
    if layout is not None:
        missing = [SECTION_TITLES[n] for n in layout.missing_sections()]
        if missing:
            out.append(Finding(rule="R-F1", authority="derived", severity="warning", attribution="report", cells=[],
                               message="缺少章节标题：" + "、".join(missing)))
    return out


def mismatch_findings(report: Report, evidence: Mapping[str, Evidence], values: Values) -> list[Finding]:
    """G1: every cell whose value the source contradicts, then each row or table the source prints but the
    report leaves out (one finding for all its cells)."""
    out: list[Finding] = []
    left_out: dict[str, list[str]] = {}
    for path, ev in evidence.items():
        if path not in values:
            if ev.status in ("mismatch", "unsupported"):
                left_out.setdefault(_row_of(path), []).append(path)
            continue
        if ev.status == "mismatch":
            value = _scalar(get_cell(report, path))
            out.append(Finding(rule="G1", authority="derived", severity="error", attribution="extraction", cells=[path],
                               expected=_num(ev.source_value), found=value,
                               message=f"{cell_label(path)}：原文此处为「{ev.source_value if ev.source_value is not None else '空白'}」，"
                                       f"与提取值「{'空白' if value is None else value}」不符"))
    return out + _left_out_findings(left_out, report)


def unsupported_findings(report: Report, evidence: Mapping[str, Evidence], values: Values) -> list[Finding]:
    """G2: every cell of the report whose value the source does not support (no reading, or several)."""
    out: list[Finding] = []
    for path, ev in evidence.items():
        if path in values and ev.status == "unsupported":
            value = _scalar(get_cell(report, path))
            out.append(Finding(rule="G2", authority="derived", severity="warning", attribution="extraction", cells=[path],
                               found=value, message=f"{cell_label(path)}：{_unsupported_text(ev, value)}"))
    return out


def undecided_split_findings(evidence: Mapping[str, Evidence]) -> list[Finding]:
    """G3: where glued runs leave cells undecided, one note that the original page reads them exactly."""
    if not any(ev.status == "unsupported" and ev.match == "split" for ev in evidence.values()):
        return []
    return [Finding(
        rule="G3", authority="derived", severity="info", attribution="extraction", cells=[],
        message="部分连写的数字仅凭文本无法确定如何拆分到各单元格；原始网页（HTML）、PDF 或 Word 文件中每个数值各占一格，"
                "用原件重新提取或对照原件核对即可准确读取")]


_TABLE_NAMES = {"active_disclosure": "二、主动公开政府信息情况", "applications": "三、收到和处理政府信息公开申请情况",
                "review_litigation": "四、政府信息公开行政复议、行政诉讼情况"}


def _row_of(path: str) -> str:
    return path.split("[")[0] if path.startswith("applications.") else path.rsplit(".", 1)[0]


def _left_out_findings(left_out: dict[str, list[str]], report: Report) -> list[Finding]:
    """Rows (or whole tables) the source prints but the report does not hold: a blank is a claim too."""
    out: list[Finding] = []
    by_table: dict[str, list[str]] = {}
    for row, cells in left_out.items():
        by_table.setdefault(row.split(".")[0], []).append(row)
    for table, rows in by_table.items():
        if getattr(report, table) is None:
            cells = [c for r in rows for c in left_out[r]]
            out.append(Finding(rule="G1", authority="derived", severity="error", attribution="extraction", cells=cells,
                               message=f"原文印有「{_TABLE_NAMES[table]}」表（{len(cells)} 个单元格），提取结果中没有此表"))
            continue
        for row in rows:
            cells = left_out[row]
            out.append(Finding(rule="G1", authority="derived", severity="error", attribution="extraction", cells=cells,
                               message=f"原文印有「{_row_label(cells[0])}」一行，提取结果中没有此行"))
    return out


def _row_label(path: str) -> str:
    label = cell_label(path)
    return label.rsplit("（", 1)[0] if path.startswith("applications.") else label.split("·")[0]


def _shown(v: object) -> str:
    return "空白" if v is None else str(v)


def _unsupported_text(ev: Evidence, value: int | str | None) -> str:
    why = f"{ev.note}，" if ev.note else ""
    if ev.alternatives:
        alts = "、".join(f"「{_shown(a)}」" for a in ev.alternatives[:6]) + ("等" if len(ev.alternatives) > 6 else "")
        if ev.text is not None and ev.start is not None:
            return f"{why}本格可读为「{_shown(value)}」，也可读为 {alts}，无法确定"
        return f"{why}本格可读为 {alts}，不能证实「{_shown(value)}」"
    return "原文中找不到此数的依据" + (f"（{ev.note}）" if ev.note else "")


def _scalar(v: object) -> int | str | None:
    return v if isinstance(v, (int, str)) else None


def _num(s: str | None) -> int | str | None:
    if s is None:
        return None
    try:
        return int(s)
    except ValueError:
        return s
