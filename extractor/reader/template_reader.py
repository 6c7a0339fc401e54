"""The deterministic template reader: locate every cell of tables 二, 三 and 四 and build a Report.

``locate`` is also grounding's oracle: it says what the source prints at each cell's place, so a
report from any reader (LLM, person) can be compared cell by cell with the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.findings import Finding
from extractor.normalize import NormalizedText
from extractor.reader.cells import LocatedCell
from extractor.reader.tables import read_table2, read_table3, read_table4
from extractor.schema import (
    ActiveDisclosure2019,
    ActiveDisclosure2021,
    Report,
    ReviewLitigation,
    set_cell,
)
from extractor.sections import DocumentLayout
from extractor.template_spec import ACTIVE_ROWS, application_row_keys


@dataclass
class SourceMap:
    """What the source prints at each cell's place (normalized offsets)."""

    cells: dict[str, LocatedCell] = field(default_factory=dict)
    template: str | None = None
    single_other_row: bool = False
    findings: list[Finding] = field(default_factory=list)
    tables_found: dict[int, bool] = field(default_factory=dict)
    rows_missing: list[str] = field(default_factory=list)
    row_tokens: dict[str, list[tuple[int | str, int, int]]] = field(default_factory=dict)


def _prose(layout: DocumentLayout) -> str:
    parts = [layout.section_text(n) for n in (1, 5, 6)]
    return "\n".join(p for p in parts if p) or layout.text[:4000]


_CACHE: dict[tuple[str, str], SourceMap] = {}
_CACHE_SIZE = 64


def locate(norm: NormalizedText, layout: DocumentLayout, template: str | None = None) -> SourceMap:
    """The source map of a normalized text; cached, since the engine and grounding both ask for it."""
    tmpl = template or layout.template or _template_from_year(layout.year)
    key = (norm.text, tmpl)
    smap = _CACHE.get(key)
    if smap is None:
        smap = _locate(norm.text, tmpl, layout)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = smap
    return smap


def clear_cache() -> None:
    _CACHE.clear()


def _template_from_year(year: int | None) -> str:
    return "2019" if year is not None and year <= 2020 else "2021"


def _locate(text: str, template: str, layout: DocumentLayout) -> SourceMap:
    smap = SourceMap(template=template)
    whole = (0, len(text))
    if 2 in layout.sections:
        t2 = read_table2(text, layout.sections[2], template, _prose(layout))
        smap.cells.update(t2.cells)
        smap.row_tokens.update(t2.row_tokens)
        smap.findings.extend(t2.findings)
        smap.tables_found[2] = t2.found
        smap.rows_missing += [f"active_disclosure.{k}" for k in t2.rows_missing]
    span3 = layout.sections.get(3, whole)
    t3, single = read_table3(text, span3)
    smap.single_other_row = single
    smap.cells.update(t3.cells)
    smap.row_tokens.update(t3.row_tokens)
    smap.findings.extend(t3.findings)
    smap.tables_found[3] = t3.found
    smap.rows_missing += [f"applications.{k}" for k in t3.rows_missing]
    span4 = layout.sections.get(4)
    if span4 is not None:
        t4 = read_table4(text, span4)
        smap.cells.update(t4.cells)
        smap.row_tokens.update(t4.row_tokens)
        smap.findings.extend(t4.findings)
        smap.tables_found[4] = t4.found
    else:
        smap.tables_found[4] = False
    return smap


def build_report(smap: SourceMap, layout: DocumentLayout) -> Report:
    """A Report holding exactly what the source map located; unread rows and tables stay null."""
    template = smap.template or "2021"
    report = Report(agency=layout.agency, year=layout.year, template=template)  # type: ignore[arg-type]
    if smap.tables_found.get(2):
        ad_cls = ActiveDisclosure2021 if template == "2021" else ActiveDisclosure2019
        report.active_disclosure = ad_cls()
        for row_key, _label, fields in ACTIVE_ROWS[template]:
            for fkey, _fl, _kind in fields:
                path = f"active_disclosure.{row_key}.{fkey}"
                cell = smap.cells.get(path)
                if cell is not None:
                    set_cell(report, path, cell.value)
    if smap.tables_found.get(3):
        apps: dict[str, list[int | None] | None] = {}
        for key in application_row_keys(smap.single_other_row):
            row = [smap.cells.get(f"applications.{key}[{c}]") for c in range(7)]
            apps[key] = None if all(c is None for c in row) else [
                (c.value if c is not None and isinstance(c.value, int) else None) for c in row
            ]
        report.applications = apps
    if smap.tables_found.get(4):
        report.review_litigation = ReviewLitigation()
        for path, cell in smap.cells.items():
            if path.startswith("review_litigation."):
                set_cell(report, path, cell.value if isinstance(cell.value, int) or cell.value is None else None)
    return report
