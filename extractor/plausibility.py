"""Single-report plausibility rules of template.md §7.3: R-Y3, R-P1 and R-P2 (listed in ``extractor.rules``).

No authority states these; they are warnings about the report, never proof of a misreading, so they
never change a cell and never count as a flag on a cell in the eval. A rule whose operands are not all
grounded is still attributed to the extraction, like every other rule, because then we may have misread.
"""

from __future__ import annotations

import re

from extractor.checker import attribution_for
from extractor.findings import Evidence, Finding
from extractor.schema import Report, get_int
from extractor.template_spec import cell_label

# 2019 table 二 items that print 上一年项目数量 and 本年增/减.
_ITEMS_2019 = ("licensing", "other_services", "punishment", "coercion", "fees")

# Bodies without rule-making power (立法法): townships and streets, and county-level bodies. 「区」 is a
# county-level district except in 自治区 (a province) and 特别行政区, which are removed before the search;
# 「地区」 is a prefecture, also without that power.
_TOWNSHIP = re.compile(r"(乡|镇|街道|苏木)(人民政府|办事处|党委|政府)?$|街道办事处|乡人民政府|镇人民政府")
_COUNTY = re.compile(r"[县旗区]")

# R-P2: a fee notice that went unpaid implies the report mentions the 信息处理费 somewhere in its prose.
_FEE_TEXT = re.compile(r"信息处理费|处理费|收费通知|缴费通知|收取.{0,8}费")


def check_item_stock(report: Report, evidence: dict[str, Evidence]) -> list[Finding]:
    """R-Y3 (2019): 上一年项目数量 + 本年增/减 is the number of items this year and cannot be negative."""
    if report.template != "2019":
        return []
    out: list[Finding] = []
    for item in _ITEMS_2019:
        prev_path, change_path = f"active_disclosure.{item}.prev_items", f"active_disclosure.{item}.change"
        prev, change = get_int(report, prev_path), get_int(report, change_path)
        if prev is None or change is None or prev + change >= 0:
            continue
        cells = [prev_path, change_path]
        out.append(Finding(
            rule="R-Y3", authority="heuristic", severity="warning",
            attribution=attribution_for(cells, evidence),
            cells=cells, expected=None, found=prev + change,
            message=f"{cell_label(prev_path)}（{prev}）加{cell_label(change_path)}（{change}）为负数（{prev + change}），"
                    "本年项目数量不可能小于 0",
        ))
    return out


def rulemaking_level(agency: str | None) -> str | None:
    """「乡镇/街道」 or 「县级」 when the agency's name shows a body without rule-making power, else None."""
    if not agency:
        return None
    name = re.sub(r"\s+", "", agency)
    if _TOWNSHIP.search(name):
        return "乡镇/街道"
    if "地区" in name:
        return "地区（非设区的市）"
    if _COUNTY.search(name.replace("自治区", "").replace("特别行政区", "")):
        return "县级"
    return None


def check_regulations_power(report: Report, evidence: dict[str, Evidence]) -> list[Finding]:
    """R-P1: a township or county-level body reporting 规章 of its own is implausible (E7)."""
    level = rulemaking_level(report.agency)
    if level is None:
        return []
    keys = ("issued", "in_force") if report.template == "2021" else ("made", "published", "total_published")
    paths = [f"active_disclosure.regulations.{k}" for k in keys]
    nonzero = [(p, v) for p in paths if (v := get_int(report, p)) is not None and v > 0]
    if not nonzero:
        return []
    cells = [p for p, _ in nonzero]
    shown = "、".join(f"{cell_label(p)} {v}" for p, v in nonzero)
    return [Finding(
        rule="R-P1", authority="heuristic", severity="warning",
        attribution=attribution_for(cells, evidence),
        cells=cells, expected=0, found=nonzero[0][1],
        message=f"{report.agency}看来是{level}机关，没有规章制定权，却填报了规章（{shown}）；"
                "通常应为 0，可能误填了行政规范性文件或上级规章",
    )]


def check_fee_mentioned(report: Report, evidence: dict[str, Evidence], source_text: str | None) -> list[Finding]:
    """R-P2 (2021): 「逾期未按收费通知要求缴纳费用」 > 0 means a fee notice was issued; the prose should say so."""
    if report.template != "2021" or not source_text or not report.applications:
        return []
    path = "applications.other_overdue_fee[6]"
    total = get_int(report, path)
    if total is None or total <= 0:
        return []
    # The table's own row label contains 「缴纳费用」; look only outside it.
    prose = re.sub(r"[^\n]*逾期未按收费通知要求缴纳费用[^\n]*", "", source_text)
    if _FEE_TEXT.search(prose):
        return []
    return [Finding(
        rule="R-P2", authority="heuristic", severity="info",
        attribution=attribution_for([path], evidence),
        cells=[path], expected=None, found=total,
        message=f"表三「申请人逾期未按收费通知要求缴纳费用」为 {total} 件，说明发出过收费通知，"
                "但正文没有提到信息处理费的收取情况",
    )]

