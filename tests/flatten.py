"""Render a canonical report into the flattened text forms real reports come in (for round-trip tests)."""

from __future__ import annotations

from collections.abc import Callable

from extractor.schema import Report, get_cell
from extractor.template_spec import (
    ACTIVE_ROWS,
    ALL_APPLICATION_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
)

HEAD = "{agency}{year}年政府信息公开工作年度报告\n本报告所列数据统计期限自{year}年1月1日起至{year}年12月31日止。\n一、总体情况\n本年度工作概述。\n"
TAIL = "五、存在的主要问题及改进情况\n无。\n六、其他需要报告的事项\n无。\n"


def _fmt(v: object) -> str:
    return "" if v is None else str(v)


def _rows(report: Report) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]], list[str]]:
    t2: list[tuple[str, list[str]]] = []
    assert report.template
    for key, label, fields in ACTIVE_ROWS[report.template]:
        vals = []
        for f, _fl, kind in fields:
            if kind == "unit":
                continue
            v = get_cell(report, f"active_disclosure.{key}.{f}")
            unit = get_cell(report, f"active_disclosure.{key}.amount_unit") if f == "amount" else None
            vals.append(_fmt(v) + (str(unit) if unit and v is not None else ""))
        t2.append((label, vals))
    t3: list[tuple[str, list[str]]] = []
    for key in report.application_keys():
        row = (report.applications or {}).get(key) or [None] * 7
        t3.append((ALL_APPLICATION_LABELS[key].split(" ")[-1], [_fmt(v) for v in row]))
    t4 = [_fmt(get_cell(report, f"review_litigation.{g}.{c}")) for g, _ in REVIEW_GROUPS for c, _ in REVIEW_COLUMNS]
    return t2, t3, t4


def _headers(template: str) -> tuple[str, str, str]:
    cols2 = "本年制发件数 本年废止件数 现行有效件数" if template == "2021" else "本年新制作数量 本年新公开数量 对外公开总数量"
    h3 = "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和) 申请人情况 " + " ".join(APPLICANT_COLUMNS)
    h4 = "行政复议 行政诉讼 " + " ".join(c for _, c in REVIEW_COLUMNS) + " 未经复议直接起诉 复议后起诉"
    return f"第二十条第(一)项 信息内容 {cols2}", h3, h4


def render(report: Report, style: str) -> str:
    t2, t3, t4 = _rows(report)
    h2, h3, h4 = _headers(report.template or "2021")
    fn: Callable[[str, list[str]], str] = STYLES[style]
    body = [HEAD.format(agency=report.agency or "", year=report.year)]
    body.append("二、主动公开政府信息情况\n" + h2 + "\n")
    body += [fn(label, vals) for label, vals in t2]
    body.append("三、收到和处理政府信息公开申请情况\n" + h3 + "\n")
    body += [fn(label, vals) for label, vals in t3]
    body.append("四、政府信息公开行政复议、行政诉讼情况\n" + h4 + "\n")
    body.append(fn("", t4))
    body.append(TAIL)
    return "".join(body)


def _pipes(label: str, vals: list[str]) -> str:
    return (f"{label} | " if label else "") + " | ".join(vals) + " | ||\n"


def _tabs(label: str, vals: list[str]) -> str:
    return (f"{label}\t" if label else "") + "\t".join(vals) + "\t\n"


def _cell_per_line(label: str, vals: list[str]) -> str:
    return (f"{label} |\n" if label else "") + "".join(f"{v} |\n" for v in vals)


def _blank_lines(label: str, vals: list[str]) -> str:
    return (f"{label}\n\n" if label else "") + "".join(f"{v}\n\n" for v in vals)


def _layout(label: str, vals: list[str]) -> str:
    return f"{label:<24}" + "".join(f"   {v:>8}" for v in vals) + "\n\n"


def _glued(label: str, vals: list[str]) -> str:
    return f"{label}{''.join(vals)}"


STYLES: dict[str, Callable[[str, list[str]], str]] = {
    "pipes": _pipes,
    "tabs": _tabs,
    "cell_per_line": _cell_per_line,
    "blank_lines": _blank_lines,
    "layout": _layout,
    "glued": _glued,
}
# styles that cannot show a blank cell: the report must have none
NO_BLANKS = {"cell_per_line", "blank_lines", "layout", "glued"}
