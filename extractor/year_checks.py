"""Year-to-year rules of template.md §7.3 across the reports of one agency: R-Y1 and R-Y2.

They need two reports, so they run where several are read together (a batch, ``year_to_year``) or where
the user names the year before (``nianbao check --previous``), never inside the single-report checker;
``extractor.rules`` lists them and runs a pair (``check_year_pair``). Both are heuristics that break
legitimately (机构改革, the 2019 reset of counting, documents that expire without 废止), hence warnings
and notes, never errors.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from extractor.findings import Finding
from extractor.schema import Report, get_int
from extractor.template_spec import APPLICANT_COLUMNS

# Counts that carry over: 2021 B1 (规章, 行政规范性文件) has 本年制发 / 本年废止 / 现行有效.
_STOCK_ROWS = {"regulations": "规章", "normative_documents": "行政规范性文件"}


@dataclass(frozen=True)
class YearReport:
    """One read report of a batch: ``key`` names it (its path), ``doubted`` the cells we may have misread."""

    key: str
    report: Report
    doubted: frozenset[str] = field(default_factory=frozenset)


def agency_key(agency: str) -> str:
    """Agency names as printed differ in width and spaces only."""
    text = unicodedata.normalize("NFKC", agency)
    return re.sub(r"[\s　·•]", "", text)


# A leading 「江苏省」「淮安市」 qualifies a name that is also printed without it (d002 洪泽区人民政府,
# d003 淮安市洪泽区人民政府: one agency, two years).
_PLACE_PREFIX = re.compile(r"^[^省市州盟]{1,10}?(?:省|自治区|市|自治州|地区|盟)")
_PLACE_MARK = re.compile(r"[省市县区旗州盟镇乡]|街道")


def _shorter_forms(key: str) -> list[str]:
    forms = []
    while (m := _PLACE_PREFIX.match(key)) and len(key) > m.end():
        key = key[m.end():]
        if not _PLACE_MARK.search(key):
            break  # 「淮安市人民政府」 is not 「人民政府」
        forms.append(key)
    return forms


def agency_groups(keys: set[str]) -> dict[str, str]:
    """Each key's group: itself, or the shorter printed form of the same name that the batch also holds.

    A shorter form claimed by two different longer names (北京市朝阳区…, 长春市朝阳区…) joins neither.
    """
    claims: dict[str, set[str]] = {}
    for key in keys:
        for form in _shorter_forms(key):
            if form in keys:
                claims.setdefault(form, set()).add(key)
                break
    group = {key: key for key in keys}
    for form, longer in claims.items():
        if len(longer) == 1:
            group[next(iter(longer))] = form
    return group


def _attribution(cells: list[str], earlier: YearReport, later: YearReport) -> Literal["report", "extraction"]:
    # A cell of either year that its own reading doubts makes the disagreement possibly ours.
    doubted = (later.doubted | earlier.doubted).intersection(cells)
    return "extraction" if doubted else "report"


def carry_over(earlier: YearReport, later: YearReport) -> list[Finding]:
    """R-Y1: 上年结转 of year N equals 结转下年度继续办理 of year N−1, column by column."""
    before, after = earlier.report, later.report
    assert before.year is not None and after.year is not None
    differing: list[tuple[int, int, int]] = []
    for column in range(len(APPLICANT_COLUMNS)):
        carried_in = get_int(after, f"applications.carried_over[{column}]")
        carried_out = get_int(before, f"applications.carried_forward[{column}]")
        if carried_in is not None and carried_out is not None and carried_in != carried_out:
            differing.append((column, carried_in, carried_out))
    if not differing:
        return []
    cells = [f"applications.carried_over[{c}]" for c, _, _ in differing]
    # the finding's expected/found describe the 总计 column where it differs, else the first column that does
    column, found, expected = next((d for d in differing if d[0] == len(APPLICANT_COLUMNS) - 1), differing[0])
    shown = "、".join(f"{APPLICANT_COLUMNS[c]} {i}≠{o}" for c, i, o in differing)
    return [Finding(
        rule="R-Y1", authority="heuristic", severity="warning",
        attribution=_attribution(cells + [f"applications.carried_forward[{c}]" for c, _, _ in differing],
                                 earlier, later),
        cells=cells, expected=expected, found=found,
        message=f"{after.year} 年度「上年结转政府信息公开申请数量」与 {before.year} 年度报告（{earlier.key}）"
                f"「结转下年度继续办理」不一致：{shown}（机构改革等情况下可能合理）",
    )]


def stock(earlier: YearReport, later: YearReport) -> list[Finding]:
    """R-Y2 (2021 B1): 现行有效(N) ≈ 现行有效(N−1) + 本年制发(N) − 本年废止(N)."""
    before, after = earlier.report, later.report
    if before.template != "2021" or after.template != "2021":
        return []
    out: list[Finding] = []
    for row, label in _STOCK_ROWS.items():
        prefix = f"active_disclosure.{row}"
        previous = get_int(before, f"{prefix}.in_force")
        issued, repealed, now = (get_int(after, f"{prefix}.{k}") for k in ("issued", "repealed", "in_force"))
        if previous is None or issued is None or repealed is None or now is None:
            continue
        expected = previous + issued - repealed
        if now == expected:
            continue
        cells = [f"{prefix}.in_force", f"{prefix}.issued", f"{prefix}.repealed"]
        out.append(Finding(
            rule="R-Y2", authority="heuristic", severity="info",
            attribution=_attribution(cells, earlier, later),
            cells=[f"{prefix}.in_force"], expected=expected, found=now,
            message=f"{label}现行有效件数 {now} ≠ {before.year} 年度的 {previous} + 本年制发 {issued} − 本年废止 {repealed}"
                    f" = {expected}（文件到期失效或口径为历史累计时可能合理）",
        ))
    return out


def year_to_year(reports: list[YearReport]) -> dict[str, list[Finding]]:
    """Findings of each report (by key) against the same agency's report of the year before.

    Reports are paired by agency name and consecutive years. Where an agency has two different reports
    for one year, that year is left out: we cannot tell which one the next year continues.
    """
    # imported here: extractor.rules imports this module's checks (carry_over, stock) to list them
    from extractor.rules import check_year_pair

    named = [(agency_key(item.report.agency), item) for item in reports
             if item.report.agency and item.report.year is not None]
    group = agency_groups({key for key, _ in named})
    by_agency: dict[str, dict[int, list[YearReport]]] = {}
    for key, item in named:
        assert item.report.year is not None
        by_agency.setdefault(group[key], {}).setdefault(item.report.year, []).append(item)
    out: dict[str, list[Finding]] = {}
    for years in by_agency.values():
        for year, items in sorted(years.items()):
            previous = years.get(year - 1)
            if len(items) != 1 or previous is None or len(previous) != 1:
                continue
            later, earlier = items[0], previous[0]
            findings = check_year_pair(earlier, later)
            if findings:
                out[later.key] = findings
    return out
