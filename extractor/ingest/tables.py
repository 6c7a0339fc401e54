"""Tables as text: one row per line, a TAB between cells, blank cells kept as empty strings.

HTML and DOCX both hand their tables here so that every reader sees one convention (devset d014.txt
is this rendering of d014.html, cell for cell in its data rows):

- A merged cell is one cell. Its text belongs to the first row it covers (../shared/spec/canonical-json.md);
  each later row it covers gets one empty cell in its place, so those rows keep their cell count
  (devset d022: a 0 merged down three （六） sub-rows reads as 0, null, null).
- A colspan is not padded with empty cells: reports merge columns inconsistently between header and
  data rows (d014 section 二 prints 「0 [colspan 2] | 0 | 0」 under 「上一年项目数量 | 本年增/减 [colspan 2] |
  处理决定数量」), and the printed cells, counted in order, are what the gold reads.
- Label columns (those left of the first column that holds a number anywhere in the table) drop their
  empty cells. A row label merged over three columns, or a group label (「（三）不予公开」) merged down
  eight rows, then reads as it does on the page, and every data row ends with one cell per data column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL_SPACE_RE = re.compile(r"\s+")
_ASCII_WORD_END = re.compile(r"[0-9A-Za-z.%]$")
_ASCII_WORD_START = re.compile(r"^[0-9A-Za-z]")
_NUMBER_CELL_RE = re.compile(r"^[-+－]?[0-9０-９][0-9０-９,，]*(?:[.．][0-9０-９]+)?\s*(?:万?元|件|个|项|次|%)?$")
_MAX_SPAN = 1000


@dataclass(frozen=True)
class SpanCell:
    """A cell as the markup declares it, before spans are laid out on the grid."""

    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass(frozen=True)
class Slot:
    """One grid position. ``lead`` marks the first column of its cell in this row: only lead slots are
    written out. ``text`` is empty in the rows a merged cell covers below its first."""

    text: str
    lead: bool = True


Grid = list[list[Slot | None]]


def clean_cell(text: str) -> str:
    """One line of text per cell: no tabs or newlines inside, &nbsp;-only cells are empty."""
    return _CELL_SPACE_RE.sub(" ", text.replace("\xa0", " ")).strip()


def join_pieces(pieces: list[str]) -> str:
    """Join the lines of one cell (<br>, several <p>). Chinese wraps without a space; a space is kept
    only where it separates two ASCII words, so 「本年新<br>制作数量」 reads 「本年新制作数量」."""
    out = ""
    for piece in (clean_cell(p) for p in pieces):
        if not piece:
            continue
        if out and _ASCII_WORD_END.search(out) and _ASCII_WORD_START.search(piece):
            out += " "
        out += piece
    return out


def layout_spans(rows: list[list[SpanCell]]) -> Grid:
    """Place cells with rowspan/colspan on the grid, as a browser does."""
    grid: Grid = [[] for _ in rows]
    for r, row in enumerate(rows):
        col = 0
        for cell in row:
            line = grid[r]
            while col < len(line) and line[col] is not None:
                col += 1
            rowspan = max(1, min(cell.rowspan, _MAX_SPAN))
            colspan = max(1, min(cell.colspan, _MAX_SPAN))
            # A rowspan reaching past the table's last row covers nothing there (browsers do the same).
            for dr in range(min(rowspan, len(rows) - r)):
                target = grid[r + dr]
                while len(target) < col + colspan:
                    target.append(None)
                for dc in range(colspan):
                    target[col + dc] = Slot(cell.text if dr == 0 else "", lead=dc == 0)
            col += colspan
    return grid


def _label_width(grid: Grid) -> int:
    """Number of leading columns that never hold a number (0 when no column does)."""
    firsts = [
        next((i for i, s in enumerate(row) if s is not None and s.lead and _NUMBER_CELL_RE.match(clean_cell(s.text))), None)
        for row in grid
    ]
    found = [i for i in firsts if i is not None]
    return min(found) if found else 0


def render_grid(grid: Grid) -> list[str]:
    """Tab-joined lines; rows without any text (spacer rows) are dropped."""
    width = _label_width(grid)
    lines: list[str] = []
    for row in grid:
        labels = [clean_cell(s.text) for i, s in enumerate(row) if i < width and s is not None and s.lead]
        data = [clean_cell(s.text) for i, s in enumerate(row) if i >= width and s is not None and s.lead]
        cells = [c for c in labels if c] + data
        if any(cells):
            lines.append("\t".join(cells))
    return lines
