"""Where each template row stands in the source, and what it prints there.

This module finds places, not values: for every row of tables 二, 三 and 四 it says which characters of the
normalized text belong to that row (a ``RowPlace`` of ``Slot``s), whatever the flattening — pipe and tab
rows, numbers under column headers in PDF layout text, one cell per line, glued digit runs. Which value
each cell takes is decided elsewhere (``extractor.readings``), by every reading the printed characters
admit, so a reader's preference never turns into a proven value.

Row labels are found first and masked, so a label's own enumerator (「2.没有现成信息」) never joins the
digits glued before it; groups of numbers are then assigned to rows by an order-preserving alignment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from math import comb
from typing import Literal

from extractor.reader.align import align
from extractor.reader.labels import TABLE2_LABELS, TABLE3_LABELS, Anchor, find_anchors
from extractor.reader.tokens import LABEL_MASK, Group, Token, line_cells, line_context, line_groups
from extractor.template_spec import ACTIVE_ROWS, REVIEW_COLUMNS, REVIEW_GROUPS, application_row_keys

SlotKind = Literal["cell", "run"]


@dataclass(frozen=True)
class Slot:
    """One printed item of a row.

    ``cell``: exactly one template cell, as the page's structure shows it (a pipe/tab cell, a number under
    its column header, a number set apart by wide spacing or alone on its line); ``chars`` may be empty
    (a blank cell) or text that is not a number.
    ``run``: characters glued together, to be cut into one or more cells by the number grammar.
    """

    kind: SlotKind
    chars: str  # the printed characters (spaces inside a run removed)
    offsets: tuple[int, ...]  # normalized-text offset of each character of ``chars``
    start: int  # span of the slot in the normalized text (an empty cell: where it stands)
    end: int

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Normalized span of ``chars[a:b]``."""
        if not self.offsets or b <= a:
            return self.start, self.start
        return self.offsets[a], self.offsets[b - 1] + 1


@dataclass
class RowPlace:
    """The printed characters of one template row (table 四: all fifteen cells form one row)."""

    row: str  # "applications.granted", "active_disclosure.fees", "review_litigation"
    paths: tuple[str, ...]
    slots: list[Slot]
    # the row prints fewer items than it has cells, and nothing (no pipe, no column header) shows which
    # cells they are: "blank" where a cell that prints nothing leaves no trace (glued crawls, layout text,
    # one cell per line); "lost" where the row's structure shows cells and one is missing (a converter
    # floated it away): its value is unknown, not blank; "none" where every cell is printed
    missing: Literal["none", "blank", "lost"]
    start: int
    end: int
    extra: list[str] = field(default_factory=list)  # printed items beyond the row's cells (not read)
    # other places the row may be at: its label floats away from the numbers (converter output) and more
    # rows than groups of numbers stand between two rows whose places are certain
    alternatives: list[RowPlace] = field(default_factory=list)


@dataclass
class TablePlaces:
    table: int
    found: bool = False  # the table's labels are printed in the source
    rows: dict[str, RowPlace | None] = field(default_factory=dict)  # None: the row's label is not printed
    orphans: list[Token] = field(default_factory=list)  # lone numbers inside the table that no row took
    single_other_row: bool = False


# ---------------------------------------------------------------- masking
_KEEP_IN_MASK = re.compile(r"[^\n\t|]")
# 「2.」 before a label's first character is the label's enumerator, even glued to the digits of the row
# before it (「00000002.其他法律和行政法规禁止公开」) or in front of a label variant no pattern knows
_ENUMERATOR_RE = re.compile(r"[1-9]\s*[.、．](?=\s*[\u4e00-\u9fff\ue000])")


def mask(text: str, anchors: list[Anchor]) -> str:
    """Replace label characters by LABEL_MASK (keeping line and cell separators), same length."""
    if not anchors:
        return text
    pieces: list[str] = []
    pos = 0
    for a in sorted(anchors, key=lambda a: a.start):
        s, e = max(a.start, pos), a.end
        if e <= s:
            continue
        pieces.append(text[pos:s])
        pieces.append(_KEEP_IN_MASK.sub(LABEL_MASK, text[s:e]))
        pos = e
    pieces.append(text[pos:])
    return "".join(pieces)


_COMBINED: dict[tuple[str, ...], re.Pattern[str]] = {}


def mask_all_labels(text: str, patterns: dict[str, str], start: int, end: int) -> str:
    """Mask every label-like match and every enumerator in the region, so none reads as a cell."""
    key = tuple(patterns)
    combined = _COMBINED.get(key)
    if combined is None:
        combined = _COMBINED[key] = re.compile("|".join(f"(?:{p})" for p in patterns.values()))
    extra = [Anchor(-1, "", m.start(), m.end()) for m in combined.finditer(text, start, end) if m.end() > m.start()]
    extra += [Anchor(-1, "", m.start(), m.end()) for m in _ENUMERATOR_RE.finditer(text, start, end)]
    return mask(text, extra)


# ---------------------------------------------------------------- groups → rows
def _line_has_label(text: str, g: Group) -> bool:
    return re.search(r"[\u4e00-\u9fff\ue000]", line_context(text, g)) is not None


def _weak(g: Group, expected: int) -> bool:
    """A lone short number where a whole row is expected (a displaced cell or a stray page mark); not a
    pipe/tab row whose other cells are printed blank."""
    if g.structured and len(g.tokens) + g.trailing_blanks >= expected:
        return False
    return expected > 1 and len(g.tokens) == 1 and len(g.tokens[0].digits) < expected


def _label_groups(groups: list[Group], anchors: list[Anchor], text: str = "", expected: int = 7) -> None:
    """Attach each row label to the group of numbers it heads.

    A label on the same line as its numbers heads them. Labels floating on lines of their own (converter
    output, d011) head the following label-less rows in order.
    """
    ordered = sorted(anchors, key=lambda a: a.start)
    pending: list[Anchor] = []
    ai = 0
    last_row: int | None = None
    for g in groups:
        while ai < len(ordered) and ordered[ai].end <= g.start:
            pending.append(ordered[ai])
            last_row = ordered[ai].row
            ai += 1
        g.prev_anchor_row = last_row
        g.label_row = None
        g.label_certain = False
        if not pending:
            continue
        same_line = bool(text) and _line_has_label(text, g)
        adjacent = bool(text) and _right_after(text, pending[-1], g)
        if _weak(g, expected) and not adjacent:
            continue  # a lone number away from any label: a displaced cell or a page mark, not a row
        if len(pending) == 1 or same_line or adjacent:
            g.label_row = pending[-1].row
            g.label_certain = same_line or adjacent
            pending = []
        else:
            g.label_row = pending.pop(0).row  # a floating label: heads the next group only by order


def _empty_cells(rest_of_line: str) -> bool:
    """What follows a label on its line is a row of empty cells (「|  |  |」), not just the end of the
    label's own cell (「label |」, one cell per line)."""
    return re.fullmatch(r"[ \u3000]*[|\t](?:[ \u3000]*[|\t])+[ \u3000]*", rest_of_line) is not None


def _right_after(text: str, anchor: Anchor, g: Group) -> bool:
    """The group follows its label with only spaces or separators between, or the rest of the label on
    the same line (「5.属于三类内部事务信息   5」 where the pattern stops at 事务): it is that row's content,
    not a displaced cell (a row that prints one number, e.g. 「（七）总计1」)."""
    between = text[anchor.end : g.start]
    if "\n" in between and _empty_cells(between.split("\n", 1)[0]):
        return False  # the label's own line is a row of cells, printed blank: the next line is not its row
    if re.fullmatch(r"[\s|\t\ue000]*", between) is not None:
        return True
    return "\n" not in between and re.search(r"\d", between) is None


# ---------------------------------------------------------------- layout columns (PDF text)
_APPLICANT_HEADERS: tuple[str, ...] = (
    r"自\s*然\s*人", r"商\s*业", r"科\s*研", r"社\s*会\s*公\s*益|公\s*益\s*组", r"法\s*律\s*服", r"其\s*他(?!\s*组)", r"总\s*计",
)


def header_columns(text: str, start: int, end: int) -> list[float] | None:
    """Line-relative centres of the seven applicant columns in a layout (PDF) header, if all are there.

    Used to place the numbers of a space-aligned row that leaves cells blank (d014 as a PDF)."""
    centres: list[float] = []
    spans: list[tuple[int, int, int]] = []
    for pattern in _APPLICANT_HEADERS:
        m = re.search(pattern, text[start:end])
        if m is None:
            return None
        s0 = start + m.start()
        line_start = text.rfind("\n", 0, s0) + 1
        if "|" in text[line_start:s0] or "\t" in text[line_start:s0]:
            return None
        centres.append(s0 - line_start + (m.end() - m.start()) / 2)
        spans.append((line_start, s0, start + m.end()))
    for (la, _sa, ea), (lb, sb, _eb) in zip(spans, spans[1:]):
        if la == lb and re.search(r" {2,}", text[ea:sb]) is None:
            return None  # headers in running text, not a column layout
    if any(b - a < 3 for a, b in zip(centres, centres[1:])):
        return None  # not a column layout (headers run together on one line of prose)
    return centres


def _place_by_columns(group: Group, text: str, columns: list[float]) -> list[Token] | None:
    """Put each number of a space-aligned row under its header column; blanks elsewhere."""
    placed: list[Token | None] = [None] * len(columns)
    last = -1
    for tok in group.tokens:
        line_start = text.rfind("\n", 0, tok.start) + 1
        centre = (tok.start + tok.end) / 2 - line_start
        col = min(range(len(columns)), key=lambda c: abs(columns[c] - centre))
        if col <= last or abs(columns[col] - centre) > 8:
            return None
        placed[col] = tok
        last = col
    end = group.tokens[-1].end
    return [t if t is not None else Token("blank", end, end, "", note="blank under its column") for t in placed]


def _spaced(group: Group, text: str) -> bool:
    """Numbers set apart by runs of spaces, as layout text prints table cells (not a glued crawl)."""
    toks = group.tokens
    return all(re.fullmatch(r" {2,}", text[a.end : b.start]) is not None for a, b in zip(toks, toks[1:]))


# ---------------------------------------------------------------- slots
def _cell_slot(tok: Token, text: str) -> Slot:
    if tok.kind == "blank":
        return Slot("cell", "", (), tok.start, tok.start)
    chars, offsets = _chars(text, tok.start, tok.end)
    return Slot("cell", chars, offsets, tok.start, tok.end)


def _chars(text: str, start: int, end: int) -> tuple[str, tuple[int, ...]]:
    keep = [(i, text[i]) for i in range(start, end) if not text[i].isspace()]
    return "".join(c for _, c in keep), tuple(i for i, _ in keep)


_YEAR_AFTER_RE = re.compile(r"\s*年")


def _run_slots(tokens: list[Token], text: str) -> list[Slot]:
    """Glued tokens → runs: tokens that touch form one run; whitespace between tokens separates runs."""
    runs: list[list[Token]] = []
    for tok in tokens:
        if runs and runs[-1][-1].end == tok.start:
            runs[-1].append(tok)
        else:
            runs.append([tok])
    slots: list[Slot] = []
    for run in runs:
        chars, offsets = _chars(text, run[0].start, run[-1].end)
        if chars:
            slots.append(Slot("run", chars, offsets, run[0].start, run[-1].end))
    # a year that opens the prose after the table is not a cell: 「…继续办理20000022025年，我局…」
    if slots and _YEAR_AFTER_RE.match(text, slots[-1].end):
        last = slots[-1]
        m = re.search(r"(?:19|20)\d\d$", last.chars)
        if m is not None:
            slots.pop()
            if m.start() > 0:
                slots.append(Slot("run", last.chars[: m.start()], last.offsets[: m.start()], last.start,
                                  last.offsets[m.start() - 1] + 1))
    return slots


Missing = Literal["none", "blank", "lost"]
Reading = tuple[list[Slot], Missing]


def row_slots(group: Group, text: str, n: int, columns: list[float] | None = None
              ) -> tuple[list[Reading], list[str]]:
    """How a group's printed items may fill a row of ``n`` cells — one way, or several where the page
    does not say (a structured row short of cells whose one number could be the whole row glued) — and
    the items beyond the row's cells."""
    tokens = list(group.tokens)
    if columns is not None and not group.structured and len(tokens) < n and _spaced(group, text):
        placed = _place_by_columns(group, text, columns)
        if placed is not None:
            return [([_cell_slot(t, text) for t in placed], "none")], []
    if group.structured:
        if len(tokens) < n and len(tokens) + group.trailing_blanks >= n:
            last = tokens[-1].end
            tokens += [Token("blank", last, last, "") for _ in range(n - len(tokens))]
        while len(tokens) > n and tokens[0].kind == "blank":
            tokens.pop(0)  # blank padding cells before a full row of values (seed 002's 结转 row)
        extra = [t.raw or "□" for t in tokens[n:]]
        cells: Reading = ([_cell_slot(t, text) for t in tokens[:n]], "lost" if len(tokens) < n else "none")
        nums = [t for t in tokens if t.kind == "num"]
        if len(nums) == 1 and len(tokens) < n and len(nums[0].digits) >= n:
            glued: Reading = (_run_slots(nums, text), "blank")  # the whole row glued into one cell
            # one cell short may also be one cell floated away (「| 行政事业性收费 | 23 |」: 2/3, or 23 and a lost one)
            return ([glued, cells] if len(tokens) == n - 1 else [glued]), extra
        return [cells], extra
    # one cell per line, or numbers set apart by wide spacing: each is a whole cell. A lone number too
    # short to fill the row is one cell beside blanks; a longer one is a glued row.
    single = len(tokens) == 1
    whole = group.merged_lines > 1 or (_spaced(group, text) and not single) or (single and len(tokens[0].digits) < n)
    if whole:
        extra = [t.raw for t in tokens[n:]]
        if len(tokens) > n and any(t.kind == "num" for t in tokens[n:]):
            return [([_cell_slot(t, text) for t in keep], "none") for keep in _cell_choices(tokens, n)], extra
        return [([_cell_slot(t, text) for t in tokens[:n]], "blank" if len(tokens) < n else "none")], extra
    return [(_run_slots(tokens, text), "blank")], []


MAX_CELL_CHOICES = 200


def _cell_choices(tokens: list[Token], n: int) -> list[tuple[Token, ...]]:
    """The ways ``n`` cells may be taken, in order, from more whole numbers than the row has cells.

    A stray number among a row's cells (a page number between two lines of a PDF's table, a note's
    figure) is not told apart by the text: any of them may be the one that does not belong. The first
    choice is the first ``n``; where the choices are too many, the ``n`` in a row at every offset."""
    if comb(len(tokens), n) <= MAX_CELL_CHOICES:
        return list(combinations(tokens, n))
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def _place(row: str, paths: tuple[str, ...], group: Group, text: str, columns: list[float] | None = None) -> RowPlace:
    readings, extra = row_slots(group, text, len(paths), columns)
    (slots, missing), others = readings[0], readings[1:]
    place = RowPlace(row, paths, slots, missing, group.start, group.end, extra)
    place.alternatives = [RowPlace(row, paths, s, m, group.start, group.end) for s, m in others]
    return place


def _empty_place(row: str, paths: tuple[str, ...], at: int, text: str = "") -> RowPlace:
    """A printed label with no number after it: the row prints nothing (d014, d022's merged cells). Where
    its line prints empty cells between pipes or tabs, but fewer than the row has, a converter lost the
    others (floated away, 「| 政府集中采购 |  |」 under two columns): they are unknown, not blank."""
    printed = _empty_cells_on_line(text, at, len(paths))
    if printed:
        return RowPlace(row, paths, [Slot("cell", "", (), at, at) for _ in range(printed)], "lost", at, at)
    return RowPlace(row, paths, [], "blank", at, at)


def _empty_cells_on_line(text: str, at: int, n: int) -> int:
    """How many empty cells the rest of the line after ``at`` prints between pipes or tabs, where that is
    more than none and fewer than ``n`` and the line prints nothing else; 0 otherwise."""
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    end = end if end >= 0 else len(text)
    rest = text[at:end]
    if ("|" not in rest and "\t" not in rest) or rest.replace("|", "").strip():
        return 0  # no separator, or something printed after the label
    after = [(s, e) for s, e in line_cells(text, start, end) if s >= at]  # the label's own cell starts before
    return len(after) if 0 < len(after) < n else 0


# ---------------------------------------------------------------- certainty of places
def _uncertain_runs(n_rows: int, assignment: list[int | None], groups: list[Group], anchors: list[Anchor],
                    end: int, expected: int, text: str = "") -> dict[int, list[int | None]]:
    """Rows whose place is not certain, each with the groups it may be at (None: at no group, blank).

    A row's place is certain when its label stands on the line of its numbers or right before them, or
    when the label is printed and nothing but the next label follows (a blank row). Between two certain
    rows, the other rows and the groups left between are matched in order; that is forced only when
    there are as many groups as rows, and otherwise each row may be at any of those groups."""
    anchor_of = {a.row: a for a in anchors}
    starts = sorted(a.start for a in anchors)

    def empty_cells_after(r: int) -> bool:
        """The rest of the row's label line is a row of empty cells (「| 5.属于三类内部事务信息 |  |  |」)."""
        a = anchor_of.get(r)
        if a is None:
            return False
        line_end = text.find("\n", a.end)
        rest = text[a.end : line_end if line_end >= 0 else len(text)]
        return _empty_cells(rest)

    def nothing_after(r: int) -> bool:
        """The row's label is printed and nothing but the next label follows it."""
        a = anchor_of.get(r)
        if a is None:
            return False
        nxt = next((s0 for s0 in starts if s0 >= a.end), end)
        return not any(a.end <= g.start < nxt for g in groups)

    def printed_blank(r: int) -> bool:
        return empty_cells_after(r) or nothing_after(r)

    def certain(r: int) -> bool:
        gi = assignment[r]
        if gi is not None:
            return groups[gi].label_row == r and groups[gi].label_certain and not may_be_blank(r)
        return printed_blank(r)

    def may_be_blank(r: int) -> bool:
        """The order gave the row numbers, yet its label line prints empty cells, or its label is followed
        by nothing while the numbers stand before it (a stray number, or the row's own above a label
        that wraps): the text does not say which. (Labels stacked above their numbers, converter
        output, take the numbers after them.)"""
        gi = assignment[r]
        if gi is None or r not in anchor_of:
            return False
        g = groups[gi]
        # a lone short number on a line after the label's (a page number under a blank row) may be the
        # row's one printed value or a stray line
        lone_below = _weak(g, expected) and "\n" in text[anchor_of[r].end : g.start]
        return empty_cells_after(r) or lone_below or (nothing_after(r) and g.end <= anchor_of[r].start)

    def bound(r: int, left: bool) -> int:
        gi = assignment[r]
        if gi is not None:
            return groups[gi].end if left else groups[gi].start
        a = anchor_of[r]
        return a.end if left else a.start

    flags = [certain(r) for r in range(n_rows)]
    out: dict[int, list[int | None]] = {}
    r = 0
    while r < n_rows:
        if flags[r]:
            r += 1
            continue
        run_start = r
        while r < n_rows and not flags[r]:
            r += 1
        run = list(range(run_start, r))
        lo = bound(run_start - 1, True) if run_start > 0 else -1
        hi = bound(r, False) if r < n_rows else end
        candidates = [i for i, g in enumerate(groups) if lo <= g.start and g.end <= hi]
        full = [i for i in candidates if not _weak(groups[i], expected)]
        if len(full) == len(run) and [assignment[x] for x in run] == full and not any(may_be_blank(x) for x in run):
            continue  # as many whole rows of numbers as rows, in order: the match is forced (a lone number
            # among them is a displaced cell, reported as such)
        options: list[int | None] = [*candidates, *([None] if len(candidates) < len(run) else [])]
        for x in run:
            # a row that may be blank gets that option too, whatever numbers the order gave it
            out[x] = options if None in options or not may_be_blank(x) else [*options, None]
    return out


def _with_alternatives(place: RowPlace | None, options: list[int | None], groups: list[Group], text: str,
                       row: str, paths: tuple[str, ...], columns: list[float] | None) -> RowPlace | None:
    alternatives = [
        _place(row, paths, groups[gi], text, columns) if gi is not None else _empty_place(row, paths, place.start if place else 0)
        for gi in options
    ]
    if place is None:
        return None  # no label and no numbers: the row has no place (grounding flags it where its table is)
    place.alternatives = place.alternatives + [
        x for a in alternatives if (a.start, a.end) != (place.start, place.end) for x in (a, *a.alternatives)]
    return place


def _continued_rows(assignment: list[int | None], groups: list[Group], text: str) -> dict[int, list[int]]:
    """Rows whose numbers may go on into the groups after them that no label heads (taken by no row, or
    by a row only by order): row index → those groups, in order.

    With one cell per line, a stray line between a row's numbers (a PDF's page number, 「7 / 9」) cuts
    them in two, and the part after it is left to no row or given to the next row by order. Which of the
    numbers are the row's, the text does not say. A row printed on a line of its own (a pipe, tab or
    layout row) is not continued, and numbers on a line with words (prose after the table: 「2022年，…」)
    do not continue a row."""
    used = {gi: r for r, gi in enumerate(assignment) if gi is not None}
    out: dict[int, list[int]] = {}
    for gi, g in enumerate(groups):
        if g.structured or not g.num_tokens() or _line_has_label(text, g):
            continue
        if gi in used and g.label_certain:
            continue  # its own label heads it
        prev = max((u for u in used if u < gi), default=None)
        if prev is None or (gi in used and used[prev] == used[gi]):
            continue
        head = groups[prev]
        if head.structured or (head.merged_lines <= 1 and not head.single_cell_line):
            continue
        out.setdefault(used[prev], []).append(gi)
    return out


def _with_run_on(place: RowPlace | None, pieces: list[Group], text: str, columns: list[float] | None) -> RowPlace | None:
    """``place`` with, as alternatives, the readings of all the numbers of ``pieces`` (its own group among
    them, in print order) taken as one run of cells."""
    if place is None:
        return None
    merged = Group(tokens=[t for g in pieces for t in g.tokens], start=pieces[0].start, end=pieces[-1].end,
                   line=pieces[0].line, structured=False, merged_lines=sum(g.merged_lines for g in pieces))
    run_on = _place(place.row, place.paths, merged, text, columns)
    # (not added to ``place.extra``: those numbers may be a page mark, not cells the row prints too many of)
    place.alternatives = place.alternatives + [run_on, *run_on.alternatives]
    return place


# ---------------------------------------------------------------- 三
def detect_single_other_row(text: str, start: int, end: int) -> bool:
    region = text[start:end]
    sub = re.search(TABLE3_LABELS["other_overdue_correction"], region) or re.search(TABLE3_LABELS["other_overdue_fee"], region)
    return sub is None


_TABLE_START: dict[int, re.Pattern[str]] = {
    # where a table's own header begins inside its section, so a label the prose before it repeats
    # (「制发规范性文件5条」) is not taken for the table's row
    2: re.compile(r"第\s*二\s*十\s*条|信\s*息\s*内\s*容"),
    3: re.compile(r"勾\s*稽\s*关\s*系|申\s*请\s*人\s*情\s*况"),
}


def _table_start(table: int, text: str, start: int, end: int) -> int:
    m = _TABLE_START[table].search(text, start, end)
    return m.start() if m else start


def table3_places(text: str, span: tuple[int, int], single_other: bool | None = None) -> TablePlaces:
    start, end = span
    start = _table_start(3, text, start, end)
    if single_other is None:
        single_other = detect_single_other_row(text, start, end)
    keys = list(application_row_keys(single_other))
    places = TablePlaces(3, single_other_row=single_other)
    anchors = find_anchors(text, keys, TABLE3_LABELS, start, end)
    if not anchors:
        places.rows = {k: None for k in keys}
        return places
    places.found = True
    masked = mask_all_labels(mask(text, anchors), {k: TABLE3_LABELS[k] for k in keys}, start, end)
    columns = header_columns(text, start, anchors[0].start)
    groups = line_groups(masked, anchors[0].start, end)
    _label_groups(groups, anchors, masked, 7)
    assignment = align(len(keys), groups, [7] * len(keys))
    uncertain = _uncertain_runs(len(keys), assignment, groups, anchors, end, 7, masked)
    continued = _continued_rows(assignment, groups, masked)
    for row_idx, key in enumerate(keys):
        gi = assignment[row_idx]
        paths = tuple(f"applications.{key}[{c}]" for c in range(7))
        place: RowPlace | None
        if gi is None:
            anchor = next((a for a in anchors if a.row == row_idx), None)
            place = None if anchor is None else _empty_place(f"applications.{key}", paths, anchor.end, masked)
        else:
            place = _place(f"applications.{key}", paths, groups[gi], masked, columns)
        if row_idx in uncertain:
            place = _with_alternatives(place, uncertain[row_idx], groups, masked, f"applications.{key}", paths, columns)
        if row_idx in continued and gi is not None:
            place = _with_run_on(place, [groups[x] for x in (gi, *continued[row_idx])], masked, columns)
        places.rows[key] = place
    used = {gi for gi in assignment if gi is not None}
    rows_end = max((p.end for p in places.rows.values() if p is not None), default=0)
    places.orphans = [g.tokens[0] for gi, g in enumerate(groups) if gi not in used and _weak(g, 7) and g.start < rows_end]
    return places


# ---------------------------------------------------------------- 二
def table2_places(text: str, span: tuple[int, int], template: str) -> TablePlaces:
    start, end = span
    start = _table_start(2, text, start, end)
    specs = ACTIVE_ROWS[template]
    keys = [s[0] for s in specs]
    anchors = []
    for idx, key in enumerate(keys):
        m = re.search(TABLE2_LABELS[key], text[start:end])
        if m:
            anchors.append(Anchor(idx, key, start + m.start(), start + m.end()))
    # 「规范性文件」 inside 「行政规范性文件」 and 「行政许可」 inside longer labels must not double-anchor
    anchors = [a for a in anchors if not any(b is not a and b.start <= a.start and a.end <= b.end and (b.end - b.start) > (a.end - a.start) for b in anchors)]
    places = TablePlaces(2)
    if not anchors:
        places.rows = {k: None for k in keys}
        return places
    places.found = True
    masked = mask(text, anchors)
    first = min(a.start for a in anchors)
    groups = line_groups(masked, first, end)
    _label_groups(groups, anchors, masked, 1)
    assignment = [next((gi for gi, g in enumerate(groups) if g.label_row == row_idx), None) for row_idx in range(len(specs))]
    uncertain = _uncertain_runs(len(specs), assignment, groups, anchors, end, 1, masked)
    continued = _continued_rows(assignment, groups, masked)
    for row_idx, (key, _label, fields) in enumerate(specs):
        paths = tuple(f"active_disclosure.{key}.{f[0]}" for f in fields if f[2] != "unit")
        gi = assignment[row_idx]
        place: RowPlace | None
        if gi is not None:
            place = _place(f"active_disclosure.{key}", paths, groups[gi], masked)
        else:
            anchor = next((a for a in anchors if a.row == row_idx), None)
            place = None if anchor is None else _empty_place(f"active_disclosure.{key}", paths, anchor.end, masked)
        if row_idx in uncertain:
            place = _with_alternatives(place, uncertain[row_idx], groups, masked, f"active_disclosure.{key}", paths, None)
        if row_idx in continued and gi is not None:
            place = _with_run_on(place, [groups[x] for x in (gi, *continued[row_idx])], masked, None)
        places.rows[key] = place
    return places


# ---------------------------------------------------------------- 四
_REVIEW_HEADER_RE = re.compile(r"维\s*持|纠\s*正|其\s*他(?:\s*结\s*果)?|尚\s*未(?:\s*审\s*结)?|总\s*计")
REVIEW_PATHS: tuple[str, ...] = tuple(f"review_litigation.{g}.{c}" for g, _ in REVIEW_GROUPS for c, _ in REVIEW_COLUMNS)


def _table4_columns(text: str, start: int, data: Group) -> list[float] | None:
    """Line-relative centres of the fifteen 结果维持…总计 headers of a layout (PDF) table 四."""
    centres: list[float] = []
    for m in _REVIEW_HEADER_RE.finditer(text, start, data.start):
        line_start = text.rfind("\n", 0, m.start()) + 1
        centre = m.start() - line_start + (m.end() - m.start()) / 2
        if all(abs(centre - c) > 2 for c in centres):
            centres.append(centre)
    return sorted(centres) if len(centres) == 15 else None


def table4_places(text: str, span: tuple[int, int]) -> TablePlaces:
    start, end = span
    places = TablePlaces(4)
    # a browser or converter wraps narrow header cells anywhere (「结果维」 over 「持」): any header word's start
    header = re.search(r"结\s*果\s*维|维\s*持|尚\s*未\s*审|未\s*经\s*复\s*议|复\s*议\s*后\s*起", text[start:end])
    if header is None:
        places.rows = {"review_litigation": None}
        return places
    places.found = True
    region_start = start + header.start()
    groups = line_groups(text, region_start, end)
    n = len(REVIEW_PATHS)
    for g in groups:
        if len(g.tokens) + (g.trailing_blanks if g.structured else 0) >= n or sum(len(t.digits) for t in g.tokens) >= n:
            place: RowPlace | None = _place("review_litigation", REVIEW_PATHS, g, text)
            loose = [h for h in groups if not h.structured and h.num_tokens() and not _line_has_label(text, h)]
            if not g.structured and len(loose) > 1 and g in loose:
                # numbers on lines of their own beside the row (a page number 「6 / 11」 that cut it): any
                # fifteen of all those numbers, in order, may be the row
                place = _with_run_on(place, loose, text, None)
            places.rows["review_litigation"] = place
            return places
    data = next((g for g in groups if not g.structured and len(g.tokens) > 1 and _spaced(g, text)), None)
    if data is not None:
        columns = _table4_columns(text, region_start, data)
        placed = _place_by_columns(data, text, columns) if columns is not None else None
        if placed is not None:
            slots = [_cell_slot(t, text) for t in placed]
            places.rows["review_litigation"] = RowPlace("review_litigation", REVIEW_PATHS, slots, "none", data.start, data.end)
        else:  # headers printed vertically or lost: the numbers stand in order, their columns unknown
            slots = [_cell_slot(t, text) for t in data.tokens[:n]]
            places.rows["review_litigation"] = RowPlace("review_litigation", REVIEW_PATHS, slots, "blank", data.start, data.end)
        return places
    # a row broken over several lines: consecutive groups that hold exactly fifteen cells between them
    acc: list[Token] = []
    for g in groups:
        acc.extend(g.tokens)
        if len(acc) >= n:
            break
    if len(acc) == n:
        slots = [_cell_slot(t, text) for t in acc]
        places.rows["review_litigation"] = RowPlace("review_litigation", REVIEW_PATHS, slots, "none", acc[0].start, acc[-1].end)
        return places
    places.rows["review_litigation"] = None
    return places
