"""Tables as text: one row per line, a TAB between cells, blank cells kept as empty strings.

HTML and DOCX both hand their tables here so that every reader sees one convention. Merged cells
follow ../shared/spec/canonical-json.md: a value printed in a merged cell belongs to the first row
(and first column) it covers; every other position it covers is an empty cell, so that the cells of
each line stay in their columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL_SPACE_RE = re.compile(r"\s+")
_ASCII_WORD_END = re.compile(r"[0-9A-Za-z.%]$")
_ASCII_WORD_START = re.compile(r"^[0-9A-Za-z]")


@dataclass(frozen=True)
class SpanCell:
    """A cell as the markup declares it, before spans are laid out on the grid."""

    text: str
    rowspan: int = 1
    colspan: int = 1


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


def layout_spans(rows: list[list[SpanCell]]) -> list[list[str]]:
    """Place cells with rowspan/colspan on a grid. The text goes to the top-left position of its span;
    the positions a span covers below or to the right are empty strings."""
    grid: list[list[str | None]] = []
    for r, row in enumerate(rows):
        while len(grid) <= r:
            grid.append([])
        col = 0
        for cell in row:
            line = grid[r]
            while col < len(line) and line[col] is not None:
                col += 1
            rowspan = max(1, min(cell.rowspan, 1000))
            colspan = max(1, min(cell.colspan, 1000))
            for dr in range(rowspan):
                # A rowspan reaching past the table's last row covers nothing there (browsers do the same).
                if dr > 0 and r + dr >= len(rows):
                    break
                while len(grid) <= r + dr:
                    grid.append([])
                target = grid[r + dr]
                while len(target) < col + colspan:
                    target.append(None)
                for dc in range(colspan):
                    target[col + dc] = cell.text if dr == 0 and dc == 0 else ""
            col += colspan
    return [[c if c is not None else "" for c in line] for line in grid]


def render_rows(rows: list[list[str]]) -> list[str]:
    """Tab-joined lines; rows without any text (spacer rows) are dropped."""
    lines: list[str] = []
    for row in rows:
        cells = [clean_cell(c) for c in row]
        if any(cells):
            lines.append("\t".join(cells))
    return lines
