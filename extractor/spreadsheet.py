"""The one writer of the CSV and XLSX files people open in a spreadsheet (batch exports, review exports).

Text in these files comes from reports and reviewers (agency names the LLM copied from the source,
free-text units, reviewer names, finding messages that quote the source). A spreadsheet runs a cell
that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading tab or carriage return
hides one), so such text is written with a leading apostrophe, the usual neutral form: the text
stays readable and nothing runs. A signed number ("-3", "+1.5") is left alone: it is a number.
XLSX cannot hold most control characters; they become U+FFFD. Files are written beside the target
and renamed, so an interrupted export never leaves half a file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from extractor.atomic_file import write_atomically

Cell = str | int | float | None

FORMULA_LEADS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?\Z")


def neutralise(value: object) -> Cell:
    """A value safe to put in a spreadsheet cell: formula-leading text gets a leading apostrophe."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_LEADS) and not _SIGNED_NUMBER.match(text):
        return "'" + text
    return text


def _xlsx_value(value: object) -> Cell:
    cell = neutralise(value)
    if isinstance(cell, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cell = ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell)  # openpyxl refuses them, Excel would too
    return cell


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]]
    freeze_header: bool = True


def write_csv(target: str | Path, headers: Sequence[str], rows: Iterable[Sequence[object]], *,
              mode: int | None = None) -> Path:
    """UTF-8 with a byte-order mark (Excel otherwise opens Chinese text as mojibake); None is empty."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([neutralise(h) for h in headers])
            for row in rows:
                writer.writerow(["" if v is None else neutralise(v) for v in row])

    return write_atomically(Path(target), write, mode)


def write_xlsx(target: str | Path, sheets: Sequence[Sheet], *, mode: int | None = None) -> Path:
    from openpyxl import Workbook

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        for sheet in sheets:
            ws = wb.create_sheet(sheet.title)
            if sheet.freeze_header:
                ws.freeze_panes = "A2"
            ws.append([_xlsx_value(h) for h in sheet.headers])
            for row in sheet.rows:
                ws.append([_xlsx_value(v) for v in row])
        wb.save(tmp)

    return write_atomically(Path(target), write, mode)


__all__ = ["FORMULA_LEADS", "Cell", "Sheet", "neutralise", "write_csv", "write_xlsx"]
