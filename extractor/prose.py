"""R-T1: figures the prose states (「办理政府信息依申请公开29件」) against the table.

Heuristic by nature (template.md §7.3): findings are warnings, and each quotes the sentence it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.findings import Evidence, Finding
from extractor.schema import Report, get_cell
from extractor.sections import DocumentLayout

_GAP = r"[^。;,，；、\d]{0,14}?"


@dataclass(frozen=True)
class ProseRule:
    name: str
    pattern: str
    cells: tuple[str, ...]  # summed table cells; "rows:<prefix>" expands to the 总计 column of matching rows


_RULES: tuple[ProseRule, ...] = (
    ProseRule("新收申请", rf"(?:收到|受理|新收)(?!.{{0,3}}(?:结转|上年)){_GAP}申请{_GAP}(\d+)\s*[件个]", ("applications.new_received[6]",)),
    ProseRule("新收申请", rf"办理{_GAP}依申请公开{_GAP}(\d+)\s*件", ("applications.new_received[6]",)),
    ProseRule("答复申请", rf"(?<!公开)答复(?:政府信息公开)?申请{_GAP}(\d+)\s*件", ("applications.total[6]",)),
    ProseRule("予以公开及部分公开", rf"予以公开及部分公开{_GAP}(\d+)\s*件", ("applications.granted[6]", "applications.partially_granted[6]")),
    ProseRule("予以公开", rf"(?<![不及])予以公开(?!及|和部分){_GAP}(\d+)\s*件", ("applications.granted[6]",)),
    ProseRule("不予公开", rf"不予公开{_GAP}(\d+)\s*件", ("rows:denied_",)),
    ProseRule("无法提供", rf"无法提供{_GAP}(\d+)\s*件", ("rows:unable_",)),
    ProseRule("不予处理", rf"不予处理{_GAP}(\d+)\s*件", ("rows:not_processed_",)),
    ProseRule("行政复议", rf"行政复议(?:案件)?{_GAP}(\d+)\s*[件起]", ("review_litigation.review.total",)),
    ProseRule("未经复议直接起诉", rf"未经复议直接起诉{_GAP}(\d+)\s*[件起]", ("review_litigation.litigation_direct.total",)),
    ProseRule("行政诉讼", rf"(?<!直接)(?:行政)?诉讼(?:案件)?{_GAP}(\d+)\s*[件起]",
              ("review_litigation.litigation_direct.total", "review_litigation.litigation_after_review.total")),
)


def _expand(report: Report, cells: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for c in cells:
        if c.startswith("rows:"):
            prefix = c[5:]
            out += [f"applications.{k}[6]" for k in (report.applications or {}) if k.startswith(prefix)]
        else:
            out.append(c)
    return out


def _table_value(report: Report, path: str) -> int | None:
    """A row's 总计, or the sum of its applicant cells where the report left 总计 blank (E5)."""
    value = get_cell(report, path)
    if value is None and path.startswith("applications.") and path.endswith("[6]"):
        row = (report.applications or {}).get(path.split(".")[1].split("[")[0])
        parts = [v for v in (row or [])[:6] if isinstance(v, int)]
        return sum(parts) if parts else None
    return value if isinstance(value, int) else None


def _prose_regions(layout: DocumentLayout) -> list[tuple[int, int]]:
    regions = [layout.sections[n] for n in (1, 5, 6) if n in layout.sections]
    first = min((s for s, _ in layout.sections.values()), default=len(layout.text))
    if first > 0:
        regions.append((0, first))
    return regions


def check_prose(report: Report, evidence: dict[str, Evidence], layout: DocumentLayout | None) -> list[Finding]:
    if layout is None or report.applications is None:
        return []
    out: list[Finding] = []
    seen: set[str] = set()
    text = layout.text
    for rule in _RULES:
        if rule.name in seen:
            continue
        for start, end in _prose_regions(layout):
            m = re.search(rule.pattern, text[start:end])
            if not m:
                continue
            seen.add(rule.name)
            cells = _expand(report, rule.cells)
            values = [_table_value(report, c) for c in cells]
            if not cells or all(v is None for v in values):
                break
            table = sum(v for v in values if isinstance(v, int))
            stated = int(m.group(1))
            if stated != table:
                sentence = re.sub(r"\s+", "", m.group(0))
                grounded = all((evidence.get(c) is None) or evidence[c].status in ("grounded", "blank") for c in cells)
                out.append(Finding(
                    rule="R-T1", authority="heuristic", severity="warning",
                    attribution="report" if grounded else "extraction", cells=cells, expected=stated, found=table,
                    message=f"正文称「{sentence}」（{rule.name} {stated}），表格为 {table}",
                ))
            break
    return out


__all__ = ["check_prose"]
