"""What the source admits at every cell's place: the checker's own reading of the text.

``admit`` finds each row's place (``extractor.reader.places``), reads every row in every way its printed
characters allow (``rows``), narrows the rows of table 三 by its column equations (``joint``), doubts a
row whose own slip explains the column totals as well (``slips``) and returns, per cell, the distinct
values the admitted readings give it. Grounding compares any report with this, whichever reader
produced the report; the template reader outputs one of these readings.

The result depends only on the normalized text and the template, so it is cached (shared by the engine
and grounding, and by batch threads: the cache is locked).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from extractor.equations import Equation, application_equations, review_equations
from extractor.normalize import NormalizedText
from extractor.reader.places import REVIEW_PATHS, RowPlace, TablePlaces, table2_places, table3_places, table4_places
from extractor.readings.grammar import Lost, SourceValue
from extractor.readings.joint import constrain
from extractor.readings.rows import CellOption, Reading, RowReadings, merge_places, own_equations, read_row
from extractor.readings.slips import doubt_slips
from extractor.sections import DocumentLayout
from extractor.template_spec import ACTIVE_ROWS, application_row_keys

CellState = Literal["read", "no_place", "no_reading"]


@dataclass(frozen=True)
class CellReading:
    path: str
    state: CellState  # read: options hold what the readings admit; no_place: the row's label is not printed;
    # no_reading: the row's printed characters fit no cut into its cells
    options: tuple[CellOption, ...] = ()
    run: bool = False  # the cell's row prints a glued run (the page's own table would read it exactly)
    printed: str = ""  # what the row prints, as the readings see it (「72171051」), for messages


@dataclass
class SourceReadings:
    template: str
    single_other_row: bool
    tables: dict[int, TablePlaces] = field(default_factory=dict)
    rows: dict[str, RowReadings] = field(default_factory=dict)  # by row ("applications.granted")
    witness: dict[str, Reading] = field(default_factory=dict)  # a combination of readings that fits the table
    cells: dict[str, CellReading] = field(default_factory=dict)
    unsatisfiable: list[Equation] = field(default_factory=list)  # every reading breaks these
    notes: list[str] = field(default_factory=list)
    # tables whose section prints non-zero numbers where no table was found (a header the layout broke
    # beyond recognition): the numbers, so a report that leaves the table out is doubted, not trusted
    unplaced_numbers: dict[int, list[str]] = field(default_factory=dict)

    def table_found(self, table: int) -> bool:
        t = self.tables.get(table)
        return t is not None and t.found

    def table_paths(self, table: int) -> list[str]:
        """Every cell path of a table as this source lays it out (print order)."""
        prefix = {2: "active_disclosure.", 3: "applications.", 4: "review_litigation."}[table]
        return [p for p in self.cells if p.startswith(prefix)]


# a number a table would hold: not part of a date, a year, or an article/item reference (第20条)
_LOOSE_NUMBER = re.compile(r"(?<![第\d.])\d+(?:\.\d+)?(?![\d.]|\s*[年月日号条款项])")


def _unplaced_numbers(text: str, span: tuple[int, int] | None) -> list[str]:
    if span is None:
        return []
    return [m.group() for m in _LOOSE_NUMBER.finditer(text, *span) if float(m.group()) != 0]


def _template_from_year(year: int | None) -> str:
    return "2019" if year is not None and year <= 2020 else "2021"


def _read_rows(places: TablePlaces, equations: list[Equation]) -> dict[str, RowReadings]:
    out: dict[str, RowReadings] = {}
    for place in places.rows.values():
        if place is None:
            continue
        mine = own_equations(place.paths, equations)
        rr = read_row(place, mine)
        if place.alternatives:
            rr = merge_places(rr, [read_row(alt, mine) for alt in place.alternatives])
        out[place.row] = rr
    return out


def _row_paths(template: str, single_other: bool) -> dict[int, dict[str, tuple[str, ...]]]:
    """The cells of every row of the three tables, by table and row, in print order."""
    two = {f"active_disclosure.{key}": tuple(f"active_disclosure.{key}.{f[0]}" for f in fields)
           for key, _label, fields in ACTIVE_ROWS[template]}
    three = {f"applications.{key}": tuple(f"applications.{key}[{c}]" for c in range(7))
             for key in application_row_keys(single_other)}
    return {2: two, 3: three, 4: {"review_litigation": REVIEW_PATHS}}


def _unit_options(amount: tuple[CellOption, ...]) -> tuple[CellOption, ...]:
    """The unit a reading of 采购总金额 carries (「251000元」): the procurement row's amount_unit cell."""
    seen: dict[object, CellOption] = {}
    for o in amount:
        unit: SourceValue = o.value if isinstance(o.value, Lost) else o.unit  # a lost amount's unit is lost too
        seen.setdefault(unit, CellOption(unit, None, o.start, o.end, hidden=o.hidden, run=o.run))
    return tuple(seen.values())


def _compute(norm: NormalizedText, layout: DocumentLayout, template: str) -> SourceReadings:
    text = norm.text
    whole = (0, len(text))
    span3 = layout.sections.get(3, whole)
    t3 = table3_places(text, span3)
    readings = SourceReadings(template=template, single_other_row=t3.single_other_row)
    t2 = table2_places(text, layout.sections[2], template) if 2 in layout.sections else TablePlaces(2)
    t4 = table4_places(text, layout.sections[4]) if 4 in layout.sections else TablePlaces(4)
    readings.tables = {2: t2, 3: t3, 4: t4}
    for table, places in readings.tables.items():
        if not places.found and (numbers := _unplaced_numbers(text, layout.sections.get(table))):
            readings.unplaced_numbers[table] = numbers
    app_keys = list(application_row_keys(t3.single_other_row))
    app_eqs = application_equations(app_keys)
    readings.rows.update(_read_rows(t2, []))
    rows3 = _read_rows(t3, app_eqs)
    column_eqs = [eq for eq in app_eqs if eq.scope == "table"]
    row_eqs = [eq for eq in app_eqs if eq.scope == "row"]
    joint = constrain(rows3, column_eqs, [f"applications.{k}" for k in app_keys], row_equations=row_eqs)
    joint.notes += doubt_slips(joint.rows, column_eqs, row_eqs)
    readings.rows.update(joint.rows)
    readings.witness = joint.witness
    readings.unsatisfiable = joint.unsatisfiable
    readings.notes += joint.notes
    readings.rows.update(_read_rows(t4, review_equations()))
    for table, rows in _row_paths(template, t3.single_other_row).items():
        places = readings.tables[table]
        for row, paths in rows.items():
            rr = readings.rows.get(row)
            value_paths = [p for p in paths if not p.endswith("amount_unit")]
            for path in paths:
                if not places.found or rr is None:
                    readings.cells[path] = CellReading(path, "no_place")
                    continue
                if path.endswith("amount_unit"):
                    amount = readings.cells[path.replace("amount_unit", "amount")]
                    readings.cells[path] = CellReading(path, amount.state, _unit_options(amount.options), amount.run,
                                                       amount.printed)
                    continue
                idx = value_paths.index(path)
                options = tuple(rr.options[idx]) if idx < len(rr.options) else ()
                run = any(s.kind == "run" for s in rr.place.slots)
                printed = " ".join([*(s.chars or "□" for s in rr.place.slots), *rr.place.extra])
                readings.cells[path] = CellReading(path, "read" if options else "no_reading", options, run, printed)
    return readings


_CACHE: OrderedDict[tuple[str, str], SourceReadings] = OrderedDict()
_CACHE_SIZE = 64
_LOCK = threading.Lock()


def admit(norm: NormalizedText, layout: DocumentLayout, template: str | None = None) -> SourceReadings:
    """What the source admits at every cell's place (cached per text and template; thread-safe)."""
    tmpl = template or layout.template or _template_from_year(layout.year)
    key = (norm.text, tmpl)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = _compute(norm, layout, tmpl)  # outside the lock: other threads read other reports meanwhile
    with _LOCK:
        _CACHE[key] = result
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


__all__ = ["CellReading", "SourceReadings", "admit", "clear_cache", "RowPlace"]
