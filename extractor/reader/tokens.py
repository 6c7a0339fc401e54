"""Turn a table region of normalized text into groups of cell tokens, whatever the flattening.

A *group* is one printed row's worth of cells as it appears in the text: a pipe or tab row (blank cells
kept), a run of space-separated numbers on one line, consecutive one-number lines (one cell per line),
or a glued digit run (crawled pages). Row labels are found beforehand and masked, so a label's own
enumerator (「2.没有现成信息」) never joins the digits glued before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

LABEL_MASK = "\ue000"  # stands in for label characters, so digits inside labels are never read as cells

TokenKind = Literal["num", "blank", "junk"]

# a number as tables print it: a sign where a change can be negative, a decimal amount, 元/万元, or a count's
# measure word (「2笔」)
NUMBER_RE = re.compile(r"(?:(?:减|增|[+-])\s*)?\d+(?:\.\d+)?(?:\s*万?元|[笔件个项次条])?")
_CJK_RE = re.compile(r"[\u4e00-\u9fff\ue000]")
_SEPARATOR_LINE_RE = re.compile(r"^[\s|:\-]*$")
_RUN_GAP_RE = re.compile(r"^[ \t]*$")


@dataclass
class Token:
    kind: TokenKind
    start: int  # offsets into the normalized text
    end: int
    raw: str
    note: str | None = None

    @property
    def digits(self) -> str:
        return re.sub(r"\D", "", self.raw) if self.kind == "num" else ""


@dataclass
class Group:
    tokens: list[Token]
    start: int
    end: int
    line: int
    structured: bool  # came from a pipe/tab row, so blank cells are real cells
    trailing_blanks: int = 0  # blank cells cut off the end of a structured row
    label_row: int | None = None  # index of the row whose label stands right before this group
    label_certain: bool = False  # that label stands on the group's line or right before it (not floating)
    prev_anchor_row: int | None = None
    merged_lines: int = 1
    single_cell_line: bool = False  # one number alone on its line: may continue a one-cell-per-line row
    notes: list[str] = field(default_factory=list)

    def num_tokens(self) -> list[Token]:
        return [t for t in self.tokens if t.kind == "num"]


def _cell_tokens(text: str, start: int, end: int) -> list[Token]:
    """Tokens of one pipe/tab cell: blank, one number, or junk."""
    cell = text[start:end]
    if not cell.strip():
        return [Token("blank", start, end, "")]
    nums = list(NUMBER_RE.finditer(cell))
    if not nums:
        stripped = cell.strip()
        if stripped in {"-", "—", "/", "\\", "--", "－"}:
            return [Token("blank", start, end, stripped, note=f"cell prints {stripped!r}, read as blank")]
        return [Token("junk", start + cell.find(stripped), start + cell.find(stripped) + len(stripped), stripped)]
    leftover = NUMBER_RE.sub("", cell)
    toks = [Token("num", start + m.start(), start + m.end(), m.group().strip()) for m in nums]
    if len(toks) > 1 and len({t.raw for t in toks}) == 1:
        first = toks[0]
        first.note = f"cell holds {len(toks)} copies of {first.raw!r} among stray marks; read once"
        return [first]
    if _CJK_RE.search(leftover):
        for t in toks:
            t.note = f"number inside text cell {cell.strip()!r}"
    return toks


def line_groups(text: str, region_start: int, region_end: int) -> list[Group]:
    """Split the region into groups, line by line."""
    groups: list[Group] = []
    pos = region_start
    line_no = 0
    while pos < region_end:
        nl = text.find("\n", pos, region_end)
        line_end = region_end if nl == -1 else nl
        groups.extend(_groups_in_line(text, pos, line_end, line_no))
        pos = line_end + 1
        line_no += 1
    return _merge_single_cell_lines(text, groups)


def _groups_in_line(text: str, start: int, end: int, line_no: int) -> list[Group]:
    line = text[start:end]
    if not line.strip() or _SEPARATOR_LINE_RE.match(line):
        return []
    if "|" in line or "\t" in line:
        return _structured_line(text, start, end, line_no)
    return _free_line(text, start, end, line_no)


def line_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The cells (spans) a structured line prints between ``start`` and ``end``, split at pipes and tabs."""
    cells: list[tuple[int, int]] = []
    cell_start = start
    for i in range(start, end + 1):
        if i == end or text[i] in "|\t":
            cells.append((cell_start, i))
            cell_start = i + 1
    line = text[text.rfind("\n", 0, start) + 1 : end]  # the whole line, even when the region starts inside it
    if line.lstrip().startswith("|"):  # a markdown row: its leading and closing pipes delimit no cells
        if cells and not text[cells[0][0] : cells[0][1]].strip():
            cells = cells[1:]
        if line.rstrip().endswith("|") and cells and not text[cells[-1][0] : cells[-1][1]].strip():
            cells = cells[:-1]  # 「| 规章 | 22 | 235 |」 prints two cells, not two and a blank
    return cells


def _structured_line(text: str, start: int, end: int, line_no: int) -> list[Group]:
    cells = line_cells(text, start, end)
    label_idx = -1
    for idx, (s, e) in enumerate(cells):
        content = text[s:e]
        if _CJK_RE.search(content) and not NUMBER_RE.search(content.replace(LABEL_MASK, "")):
            label_idx = idx
    data = cells[label_idx + 1 :]
    tokens: list[Token] = []
    for s, e in data:
        tokens.extend(_cell_tokens(text, s, e))
    trailing = 0
    while tokens and tokens[-1].kind == "blank":
        tokens.pop()
        trailing += 1
    if not any(t.kind == "num" for t in tokens):
        return []
    # a lone text cell among the data (a label fragment) ends the group there
    first, last = tokens[0].start, tokens[-1].end
    return [Group(tokens=tokens, start=first, end=last, line=line_no, structured=True, trailing_blanks=trailing)]


def _free_line(text: str, start: int, end: int, line_no: int) -> list[Group]:
    groups: list[Group] = []
    current: list[Token] = []
    last_end = start
    for m in NUMBER_RE.finditer(text, start, end):
        gap = text[last_end : m.start()]
        if current and not _RUN_GAP_RE.match(gap):
            groups.append(_free_group(current, line_no))
            current = []
        raw = m.group()
        current.append(Token("num", m.start(), m.end(), raw.strip()))
        last_end = m.end()
    if current:
        groups.append(_free_group(current, line_no))
    return groups


def _free_group(tokens: list[Token], line_no: int) -> Group:
    return Group(tokens=tokens, start=tokens[0].start, end=tokens[-1].end, line=line_no, structured=False)


def line_context(text: str, g: Group) -> str:
    """The rest of the group's line: what stands before and after it."""
    ls = text.rfind("\n", 0, g.start) + 1
    le = text.find("\n", g.end)
    le = len(text) if le == -1 else le
    return text[ls : g.start] + text[g.end : le]


def _only_group_on_line(text: str, g: Group) -> bool:
    rest = line_context(text, g)
    return not _CJK_RE.search(rest) and not re.search(r"[A-Za-z]", rest)


def _merge_single_cell_lines(text: str, groups: list[Group]) -> list[Group]:
    """One cell per line (seeds 001, 003): consecutive one-number lines with no label between form a row."""
    merged: list[Group] = []
    for g in groups:
        g.single_cell_line = len(g.tokens) == 1 and _only_group_on_line(text, g)
        if merged and g.single_cell_line and merged[-1].single_cell_line:
            prev = merged[-1]
            between = text[prev.end : g.start]
            if not _CJK_RE.search(between) and "\n" in between:
                prev.tokens.extend(g.tokens)
                prev.end = g.end
                prev.merged_lines += 1
                continue
        merged.append(g)
    return merged
