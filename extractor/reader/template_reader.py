"""The deterministic template reader: one of the readings the source admits, chosen by preference.

``extractor.readings.admit`` works out every reading of each row; where the text decides, there is one.
Where it does not (a glued run that cuts several ways), this reader picks one by soft preferences — a
combination that satisfies the table's equations, a figure the prose repeats, made == published, a change
of 0 — and outputs it. Preferences never prove anything: grounding marks every such cell unsupported and
lists the other values the text admits.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.findings import Finding
from extractor.readings.rows import CellOption, Reading, RowReadings
from extractor.readings.source import SourceReadings
from extractor.schema import (
    ActiveDisclosure2019,
    ActiveDisclosure2021,
    CellValue,
    Report,
    ReviewLitigation,
    set_cell,
)
from extractor.sections import DocumentLayout
from extractor.template_spec import ACTIVE_ROWS, application_row_keys, cell_label


def prose_of(layout: DocumentLayout) -> str:
    parts = [layout.section_text(n) for n in (1, 5, 6)]
    return "\n".join(p for p in parts if p) or layout.text[:4000]


@lru_cache(maxsize=256)
def _prose_numbers(prose: str, keywords: tuple[str, ...]) -> frozenset[int]:
    found: set[int] = set()
    for kw in keywords:
        for m in re.finditer(rf"{kw}[^。;,，；\d]{{0,12}}?(\d+)\s*[件条项个]", prose):
            found.add(int(m.group(1)))
    return frozenset(found)


_PROSE_KEYS: dict[str, tuple[str, ...]] = {
    "issued": ("制发", "制定", "出台", "印发"),
    "repealed": ("废止",),
    "in_force": ("现行有效",),
    "made": ("制作", "制定"),
    "published": ("公开",),
    "decisions": ("行政许可", "行政处罚", "行政强制", "决定"),
}


def _preference(reading: Reading, fields: list[str], prose: str) -> tuple[int, int, int]:
    """Higher is preferred: fewer hidden blanks (an agency that prints its zeros is the likelier), then prose
    figures and plausibility, then balanced lengths."""
    score = 0
    d = {f: o.value for f, o in zip(fields, reading)}
    for fk, v in d.items():
        if isinstance(v, int) and v in _prose_numbers(prose, _PROSE_KEYS.get(fk, ())):
            score += 3
    ints = {k: v for k, v in d.items() if isinstance(v, int)}
    if {"issued", "repealed", "in_force"} <= ints.keys() and ints["in_force"] >= ints["issued"] - ints["repealed"]:
        score += 1
    if {"made", "published"} <= ints.keys() and ints["made"] == ints["published"]:
        score += 1  # newly made documents are normally the ones newly published
    if ints.get("change") == 0:
        score += 1  # most item counts do not change from one year to the next
    lengths = [len(str(o.value)) for o in reading if o.value is not None]
    balance = (max(lengths) - min(lengths)) if lengths else 0
    return -sum(o.hidden for o in reading), score, -balance


def choose(readings: SourceReadings, row: str, prose: str) -> list[CellOption] | None:
    """The reading this reader outputs for a row (None: the row has no place or no reading)."""
    rr: RowReadings | None = readings.rows.get(row)
    if rr is None or rr.empty:
        return None
    if row in readings.witness:
        return list(readings.witness[row])
    if rr.readings:
        fields = [p.rsplit(".", 1)[-1] for p in rr.place.paths]
        best: Reading = max(rr.readings, key=lambda r: _preference(r, fields, prose))
        return list(best)
    return [opts[0] for opts in rr.options]


def _cell(option: CellOption) -> CellValue:
    v = option.value
    return v if isinstance(v, (int, str)) or v is None else None


def _count(value: CellValue) -> int | None:
    return value if isinstance(value, int) else None


def _settle_zero(readings: SourceReadings, path: str, value: CellValue) -> CellValue:
    """0 where every reading gives the cell 0 or a blank (they count alike, so 0 is proven; null is not)."""
    cell = readings.cells.get(path)
    if value is None and cell is not None and cell.options and all(o.value in (None, 0) for o in cell.options) \
            and any(o.value == 0 for o in cell.options):
        return 0
    return value


def build_report(readings: SourceReadings, layout: DocumentLayout) -> tuple[Report, list[Finding]]:
    """A Report holding one admitted reading of every row the source prints; unread rows stay null."""
    template = readings.template
    prose = prose_of(layout)
    # readings.template is one of ACTIVE_ROWS' keys ("2019"/"2021"), typed str where admit() computes it
    report = Report(agency=layout.agency, year=layout.year, template=template)  # type: ignore[arg-type]
    findings: list[Finding] = []
    if readings.table_found(2):
        ad_cls = ActiveDisclosure2021 if template == "2021" else ActiveDisclosure2019
        report.active_disclosure = ad_cls()
        for row_key, _label, fields in ACTIVE_ROWS[template]:
            picked = choose(readings, f"active_disclosure.{row_key}", prose)
            if picked is None:
                continue
            value_fields = [f for f in fields if f[2] != "unit"]
            for (fkey, _fl, kind), option in zip(value_fields, picked):
                value = _settle_zero(readings, f"active_disclosure.{row_key}.{fkey}", _cell(option))
                if kind == "decimal" and isinstance(value, int):
                    value = str(value)
                set_cell(report, f"active_disclosure.{row_key}.{fkey}", value)
                if any(f[2] == "unit" for f in fields) and fkey == "amount":
                    set_cell(report, f"active_disclosure.{row_key}.amount_unit", option.unit)
    if readings.table_found(3):
        apps: dict[str, list[int | None] | None] = {}
        for key in application_row_keys(readings.single_other_row):
            picked = choose(readings, f"applications.{key}", prose)
            apps[key] = None if picked is None else [_count(_settle_zero(readings, f"applications.{key}[{c}]", _cell(o)))
                                                     for c, o in enumerate(picked)]
        report.applications = apps
    if readings.table_found(4):
        picked = choose(readings, "review_litigation", prose)
        if picked is not None:
            report.review_litigation = ReviewLitigation()
            place = readings.rows["review_litigation"].place
            for path, option in zip(place.paths, picked):
                value = _settle_zero(readings, path, _cell(option))
                set_cell(report, path, value if isinstance(value, int) or value is None else None)
    for rr in readings.rows.values():
        if rr.place.extra:
            findings.append(Finding(
                rule="READ", authority="heuristic", severity="info", attribution="report", cells=list(rr.place.paths),
                message=f"{_row_name(rr.place.paths[0])} 一行印有多余的单元格「{' '.join(rr.place.extra)}」，未读入"))
    return report, findings


def _row_name(path: str) -> str:
    label = cell_label(path)
    return label.split("（")[0].split("·")[0] if not label.startswith("（") else label.split("）")[0] + "）" + label.split("）")[1].split("（")[0]
