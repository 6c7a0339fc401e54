"""The number grammar of a table cell: which printed strings a cell of each column kind can be.

Two ways a cell meets the text:

- a **cell slot** is one cell as the page's structure shows it (a pipe/tab cell, a number under its column
  header, one number alone on its line): whatever it prints is that cell's value, read leniently
  (「减4」, 「251000元」, 「-」 for blank);
- a **run** is characters a flattening glued together (crawled pages): a cell is a substring of it, and
  only the strict grammar decides where one cell ends and the next begins — no leading zeros except a
  lone 0, a sign only where the column can be negative (2019 本年增/减), a decimal point and 元/万元 only in
  an amount column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from extractor.template_spec import ACTIVE_ROWS

ColumnKind = Literal["int", "signed", "decimal"]
_NUMBER_KINDS: dict[str, ColumnKind] = {"int": "int", "signed": "signed", "decimal": "decimal"}


@dataclass(frozen=True)
class Unreadable:
    """A cell slot that prints something that is not a number (「约30」, 「—」 is read as blank instead)."""

    raw: str

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class Lost:
    """A cell the row's structure shows but does not print (a converter floated it away): unknown."""

    def __str__(self) -> str:
        return "（未印出）"


LOST = Lost()

# A cell's value as the source admits it: int, decimal string, None (blank), unreadable text or lost.
SourceValue = int | str | None | Unreadable | Lost

# a count may carry its measure word (「2笔」「5件」): it ends the cell
COUNT_UNITS = "笔件个项次条"
_INT_RE = re.compile(rf"(?P<num>0|[1-9]\d*)[{COUNT_UNITS}]?")
_SIGNED_RE = re.compile(rf"(?P<sign>[-+]|减|增)?(?P<num>0|[1-9]\d*)[{COUNT_UNITS}]?")
_DECIMAL_RE = re.compile(r"(?P<num>(?:0|[1-9]\d*)(?:\.\d+)?)(?P<unit>万元|元)?")
_LENIENT_RE = re.compile(rf"^(减|增|[+-])?\s*(\d+(?:\.\d+)?)\s*(万元|元|[{COUNT_UNITS}])?$")
_BLANK_MARKS = frozenset({"", "-", "—", "/", "\\", "--", "－", "无"})


def column_kind(path: str) -> ColumnKind:
    """The grammar of a cell path: tables 三 and 四 hold counts; section 二 says per column."""
    if not path.startswith("active_disclosure."):
        return "int"
    _, row, field = path.split(".")
    for template in ("2021", "2019"):
        for rkey, _label, fields in ACTIVE_ROWS[template]:
            if rkey != row:
                continue
            for fkey, _flabel, kind in fields:
                if fkey == field and kind in _NUMBER_KINDS:
                    return _NUMBER_KINDS[kind]
    return "int"


def run_cell(text: str, kind: ColumnKind) -> tuple[int | str, str | None] | None:
    """The value of ``text`` as one whole cell cut from a glued run, or None where the grammar forbids it."""
    if kind == "int":
        m = _INT_RE.fullmatch(text)
        return (int(m.group("num")), None) if m else None
    if kind == "signed":
        m = _SIGNED_RE.fullmatch(text)
        if m is None:
            return None
        value = int(m.group("num"))
        return (-value if m.group("sign") in ("-", "减") else value), None
    m = _DECIMAL_RE.fullmatch(text)
    if m is None:
        return None
    return m.group("num"), m.group("unit")


def slot_cell(raw: str, kind: ColumnKind) -> tuple[SourceValue, str | None]:
    """The value a structured cell prints, read leniently: (value, unit). Blank marks read as None."""
    text = raw.strip()
    if text in _BLANK_MARKS:
        return None, None
    m = _LENIENT_RE.match(text)
    if m is None:
        return Unreadable(text), None
    sign, number, unit = m.groups()
    negative = sign in ("-", "减")
    if unit is not None and unit in COUNT_UNITS:
        unit = None
    if kind == "decimal":
        return ("-" if negative else "") + number, unit
    if "." in number:
        return Unreadable(text), None  # a decimal printed where the template counts items
    return (-int(number) if negative else int(number)), unit
