"""Grounding: the checker's own judgement of each cell against the source, whoever produced the value.

``extractor.readings.admit`` works out every reading the source admits at each cell's place. A value is

- ``grounded`` when every admitted reading gives the cell this value (a printed blank counts as 0);
- ``unsupported`` when it is one of several values the readings admit (``alternatives`` lists the others),
  when none admits it and they disagree among themselves, or when the source shows no place for it;
- ``mismatch`` when every reading gives the cell one other value, a blank where a number is printed
  included;
- ``blank`` when the value is null and the source prints nothing at the cell's place in every reading.

Cells that a table printed in the source holds but the report leaves out (a row or section set to null)
are judged too: a blank is a claim. Spans point into the text the user gave (through the normalizer's
offset map). See ../shared/spec/canonical-json.md, "What grounded means".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from extractor.findings import Evidence, MatchKind
from extractor.normalize import NormalizedText
from extractor.readings.grammar import Lost, SourceValue, Unreadable
from extractor.readings.rows import CellOption
from extractor.readings.source import CellReading, SourceReadings
from extractor.schema import CellValue, Report, iter_cells

AlternativeValue = int | str | None


def same_value(a: CellValue, b: CellValue) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except InvalidOperation:
            return str(a).strip() == str(b).strip()
    return a == b


def _admits(value: CellValue, option: CellOption) -> bool:
    printed = option.value
    if isinstance(printed, (Unreadable, Lost)):
        return False
    if printed is None:
        return value is None or same_value(value, 0)  # blank and 0 count alike
    return value is not None and same_value(value, printed)


def shown(value: SourceValue) -> AlternativeValue:
    """A source value as evidence shows it (unreadable text as printed)."""
    return str(value) if isinstance(value, (Unreadable, Lost)) else value


def _span(norm: NormalizedText | None, option: CellOption) -> tuple[int | None, int | None, str | None]:
    if norm is None:
        return None, None, None
    s, e = norm.span_to_original(option.start, option.end)
    return s, e, norm.original[s:e]


def _match_kind(value: CellValue, option: CellOption) -> MatchKind:
    if option.value is None and value is not None:
        return "blank_as_zero"
    return "split" if option.run else "exact"


def judge(value: CellValue, cell: CellReading | None, readings: SourceReadings | None,
          norm: NormalizedText | None, reader: str | None = None) -> Evidence:
    """The evidence for one cell's value."""
    if cell is None or cell.state == "no_place":
        table = _table_of(cell.path) if cell is not None else None
        if readings is not None and table is not None and readings.table_found(table):
            note = "原文印有本表，但找不到本行的位置"
            return Evidence(status="unsupported", reader=reader, note=note, alternatives=[])
        if value is None:
            return Evidence(status="blank", reader=reader)
        return Evidence(status="unsupported", reader=reader, note="原文中没有此表", alternatives=[])
    if cell.state == "no_reading":
        return Evidence(status="unsupported", reader=reader, alternatives=[],
                        note=f"本行印出的「{cell.printed}」无法按数字格式拆分为本行的各个单元格")
    options = list(cell.options)
    fits = [o for o in options if _admits(value, o)]
    if len(fits) == len(options):
        best = next((o for o in fits if not o.hidden), fits[0])
        s, e, text = _span(norm, best)
        if value is None:
            return Evidence(status="blank", start=s, end=e, text=text, reader=reader)
        return Evidence(status="grounded", start=s, end=e, text=text, reader=reader, match=_match_kind(value, best))
    others = [shown(o.value) for o in options if o not in fits]
    if fits:
        best = next((o for o in fits if not o.hidden), fits[0])
        s, e, text = _span(norm, best)
        return Evidence(status="unsupported", start=s, end=e, text=text, reader=reader, match="split" if cell.run else "placement",
                        alternatives=others, note=_undecided(cell), undecided=True)
    if len(options) == 1:
        s, e, text = _span(norm, options[0])
        source = shown(options[0].value)
        return Evidence(status="mismatch", start=s, end=e, text=text, reader=reader,
                        source_value=None if source is None else str(source))
    return Evidence(status="unsupported", reader=reader, match="split" if cell.run else "placement",
                    alternatives=others, note=_undecided(cell))


def _undecided(cell: CellReading) -> str:
    if cell.run:
        return f"连写数字「{cell.printed}」有多种拆分"
    return f"本行只印有「{cell.printed}」，各数所在的列无法确定"


def _table_of(path: str) -> int | None:
    for prefix, table in (("active_disclosure.", 2), ("applications.", 3), ("review_litigation.", 4)):
        if path.startswith(prefix):
            return table
    return None


def ground(report: Report, norm: NormalizedText | None, readings: SourceReadings | None,
           producers: dict[str, str] | None = None) -> dict[str, Evidence]:
    """Evidence for every cell of ``report``, and for every cell of a printed table the report leaves out."""
    producers = producers or {}
    evidence: dict[str, Evidence] = {}
    cells = readings.cells if readings is not None else {}
    for path, value in iter_cells(report):
        cell = cells.get(path)
        if cell is None and readings is not None:
            cell = CellReading(path, "no_place")
        evidence[path] = judge(value, cell, readings, norm, producers.get(path))
    if readings is None:
        return evidence
    for table in (2, 3, 4):
        if not readings.table_found(table):
            numbers = readings.unplaced_numbers.get(table)
            if numbers:  # the section prints numbers but no table we can place: a left-out cell proves nothing
                shown_numbers = "、".join(numbers[:5]) + ("…" if len(numbers) > 5 else "")
                note = f"原文本部分印有数字（{shown_numbers}），但找不到表格的位置"
                for path in readings.table_paths(table):
                    if path not in evidence and not path.endswith("amount_unit"):
                        evidence[path] = Evidence(status="unsupported", note=note, alternatives=[])
            continue
        for path in readings.table_paths(table):
            if path in evidence or path.endswith("amount_unit"):
                continue
            cell = readings.cells[path]
            if cell.state == "read" and all(o.value is None for o in cell.options):
                continue  # the source prints nothing here either
            evidence[path] = judge(None, cell, readings, norm, None)
    _doubt_blanks_a_displaced_number_fits(report, readings, evidence)
    return evidence


def _doubt_blanks_a_displaced_number_fits(report: Report, readings: SourceReadings,
                                          evidence: dict[str, Evidence]) -> None:
    """A lone number inside table 三 that no row took (a converter printed a cell away from its row: d011's
    「1」), where exactly one cell the source shows blank would balance its row with it: that blank is not
    proven. The number is offered as the cell's alternative, never put into it."""
    apps = report.applications or {}
    for tok in readings.tables[3].orphans if 3 in readings.tables else []:
        if not tok.raw.isdigit():
            continue
        value = int(tok.raw)
        fits: list[str] = []
        for key, row in apps.items():
            if not row or len(row) != 7:
                continue
            for idx in range(7):
                path = f"applications.{key}[{idx}]"
                ev = evidence.get(path)
                shown_blank = ev is not None and (ev.status == "blank" or (ev.status == "grounded" and ev.match == "blank_as_zero"))
                if not shown_blank or row[idx] not in (None, 0):
                    continue
                others = [row[j] or 0 for j in range(7) if j != idx]
                if (idx == 6 and sum(others) == value) or (idx < 6 and others[5] - sum(others[:5]) == value):
                    fits.append(path)
        if len(fits) == 1:
            evidence[fits[0]] = Evidence(
                status="unsupported", reader=evidence[fits[0]].reader, alternatives=[value], undecided=True,
                note=f"表中单独印有「{tok.raw}」，未归入任何一行；本格原文为空白，填入该数则本行相加成立——可能是转换时错位")
