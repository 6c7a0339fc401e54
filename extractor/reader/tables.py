"""Deterministic readers of tables 二, 三 and 四 on normalized text."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from dataclasses import dataclass, field

from extractor.findings import Finding
from extractor.reader.align import align
from extractor.reader.cells import LocatedCell, parse_number, split_spans
from extractor.reader.labels import TABLE2_LABELS, TABLE3_LABELS, Anchor, find_anchors
from extractor.reader.split import split_free, split_groups_with_totals, split_row_with_total
from extractor.reader.tokens import LABEL_MASK, Group, Token, line_context, line_groups
from extractor.template_spec import (
    ACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    application_row_keys,
    cell_label,
)

MAX_COMBINATIONS = 20000


@dataclass
class TableReading:
    cells: dict[str, LocatedCell] = field(default_factory=dict)
    rows_found: list[str] = field(default_factory=list)
    rows_missing: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    found: bool = False
    # every number printed in a row's group, by row ("applications.granted"): evidence for a value
    # whose exact column the reader could not prove
    row_tokens: dict[str, list[tuple[int | str, int, int]]] = field(default_factory=dict)


def _numbers_of(group: Group) -> list[tuple[int | str, int, int]]:
    out: list[tuple[int | str, int, int]] = []
    for t in group.tokens:
        if t.kind == "num":
            value, _unit, problem = parse_number(t.raw)
            if not problem and value is not None:
                out.append((value, t.start, t.end))
    return out


def _reader_finding(cells: list[str], message: str, *, severity: str = "warning", attribution: str = "extraction",
                    rule: str = "READ", found: int | str | None = None) -> Finding:
    return Finding(rule=rule, authority="heuristic", severity=severity, attribution=attribution,  # type: ignore[arg-type]
                   cells=cells, expected=None, found=found, message=message)


_KEEP_IN_MASK = re.compile(r"[^\n\t|]")


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


def _line_has_label(text: str, g: Group) -> bool:
    return re.search(r"[\u4e00-\u9fff\ue000]", line_context(text, g)) is not None


def _weak(g: Group, expected: int) -> bool:
    """A lone short number where a whole row is expected (a displaced cell or a stray page mark)."""
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
        if _weak(g, expected) or not pending:
            continue
        if len(pending) == 1 or (text and _line_has_label(text, g)):
            g.label_row = pending[-1].row
            pending = []
        else:
            g.label_row = pending.pop(0).row


_COMBINED: dict[tuple[str, ...], re.Pattern[str]] = {}


def mask_all_labels(text: str, patterns: dict[str, str], start: int, end: int) -> str:
    """Mask every label-like match in the region, found in order or not, so enumerators never read as cells."""
    key = tuple(patterns)
    combined = _COMBINED.get(key)
    if combined is None:
        combined = _COMBINED[key] = re.compile("|".join(f"(?:{p})" for p in patterns.values()))
    extra = [Anchor(-1, "", m.start(), m.end()) for m in combined.finditer(text, start, end) if m.end() > m.start()]
    return mask(text, extra)


def _token_cells(tokens: list[Token], paths: list[str]) -> tuple[list[LocatedCell], list[Finding]]:
    cells: list[LocatedCell] = []
    findings: list[Finding] = []
    for tok, path in zip(tokens, paths):
        if tok.kind == "blank":
            cells.append(LocatedCell(path, None, tok.start, tok.end, tok.raw, "blank", note=tok.note))
        elif tok.kind == "junk":
            cells.append(LocatedCell(path, None, tok.start, tok.end, tok.raw, "uncertain", note=f"unreadable cell 「{tok.raw}」"))
            findings.append(_reader_finding([path], f"{cell_label(path)} 无法识别为数字：「{tok.raw}」", found=tok.raw))
        else:
            value, _unit, problem = parse_number(tok.raw)
            if problem:
                cells.append(LocatedCell(path, None, tok.start, tok.end, tok.raw, "uncertain", note=problem))
                findings.append(_reader_finding([path], f"{cell_label(path)} 无法识别为数字：「{tok.raw}」", found=tok.raw))
            else:
                cells.append(LocatedCell(path, value, tok.start, tok.end, tok.raw, "exact", note=tok.note))
    return cells, findings


def _split_cells(group: Group, text: str, paths: list[str], values: list[int], kind: str,
                 alternatives: list[list[int]]) -> list[LocatedCell]:
    spans = split_spans(group.tokens, text, [str(v) for v in values])
    raw = "".join(t.raw for t in group.tokens)
    out = []
    for idx, (path, value, (s, e)) in enumerate(zip(paths, values, spans)):
        cands = sorted({alt[idx] for alt in alternatives if alt[idx] != value}) if alternatives else []
        out.append(LocatedCell(path, value, s, e, text[s:e], kind, candidates=list(cands),  # type: ignore[arg-type]
                               note=f"part of the glued run 「{raw}」"))
    return out


# ---------------------------------------------------------------- 三
def detect_single_other_row(text: str, start: int, end: int) -> bool:
    region = text[start:end]
    sub = re.search(TABLE3_LABELS["other_overdue_correction"], region) or re.search(TABLE3_LABELS["other_overdue_fee"], region)
    return sub is None


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


def read_table3(text: str, span: tuple[int, int], single_other: bool | None = None) -> tuple[TableReading, bool]:
    start, end = span
    if single_other is None:
        single_other = detect_single_other_row(text, start, end)
    keys = list(application_row_keys(single_other))
    anchors = find_anchors(text, keys, TABLE3_LABELS, start, end)
    reading = TableReading()
    if not anchors:
        reading.rows_missing = keys
        return reading, single_other
    masked = mask_all_labels(mask(text, anchors), {k: TABLE3_LABELS[k] for k in keys}, start, end)
    columns = header_columns(text, start, anchors[0].start)
    groups = line_groups(masked, anchors[0].start, end)
    _label_groups(groups, anchors, masked, 7)
    assignment = align(len(keys), groups, [7] * len(keys))
    rows: dict[str, list[LocatedCell] | None] = {}
    ambiguous: dict[str, tuple[Group, list[list[int]]]] = {}
    for row_idx, key in enumerate(keys):
        gi = assignment[row_idx]
        paths = [f"applications.{key}[{c}]" for c in range(7)]
        if gi is None:
            anchor = next((a for a in anchors if a.row == row_idx), None)
            # a printed label with no number after it is a blank row (d014, d022's merged cells)
            rows[key] = None if anchor is None else [
                LocatedCell(p, None, anchor.end, anchor.end, "", "blank", note="the row prints no value") for p in paths
            ]
            continue
        group = groups[gi]
        reading.row_tokens[f"applications.{key}"] = _numbers_of(group)
        cells, findings, cands = _row_cells(group, masked, paths, columns)
        reading.findings.extend(findings)
        rows[key] = cells
        if cands is not None:
            ambiguous[key] = (group, cands)
    if ambiguous:
        _resolve_ambiguous_rows(rows, ambiguous, keys, masked, reading)
    used = {gi for gi in assignment if gi is not None}
    rows_end = _rows_end(rows)
    orphans = [g for gi, g in enumerate(groups) if gi not in used and _weak(g, 7) and g.start < rows_end]
    reading.findings.extend(_orphan_findings(orphans, rows))
    for key in keys:
        row = rows.get(key)
        if row is None:
            reading.rows_missing.append(key)
            continue
        reading.rows_found.append(key)
        for cell in row:
            reading.cells[cell.path] = cell
    reading.found = bool(reading.rows_found)
    return reading, single_other


def _rows_end(rows: dict[str, list[LocatedCell] | None]) -> int:
    ends = [c.end for row in rows.values() if row for c in row if c.end is not None]
    return max(ends, default=0)


def _orphan_findings(orphans: list[Group], rows: dict[str, list[LocatedCell] | None]) -> list[Finding]:
    """A lone number inside the table that no row took, where exactly one blank cell would balance its
    row with it: say so (d011's displaced 「1」), but never move it into the cell."""
    out: list[Finding] = []
    for g in orphans:
        value, _unit, problem = parse_number(g.tokens[0].raw)
        if problem or not isinstance(value, int):
            continue
        fits: list[str] = []
        for row in rows.values():
            if not row:
                continue
            for idx, cell in enumerate(row):
                if cell.value is not None:
                    continue
                others = [c.value for j, c in enumerate(row) if j != idx]
                if any(v is None for v in others):
                    continue
                parts = [v for v in others[:6]] if idx == 6 else [v for j, v in enumerate(others) if j < 5]
                if idx == 6 and sum(int(v) for v in parts) == value:  # type: ignore[arg-type]
                    fits.append(cell.path)
                elif idx < 6 and int(others[5]) - sum(int(v) for v in parts) == value:  # type: ignore[arg-type]
                    fits.append(cell.path)
        if len(fits) == 1:
            out.append(_reader_finding(
                fits, f"表中单独印有「{g.tokens[0].raw}」，未归入任何一行；{cell_label(fits[0])} 为空白，"
                      f"填入该数则本行相加成立——可能是转换时错位，请核对原件", found=g.tokens[0].raw))
    return out


def _row_cells(group: Group, text: str, paths: list[str], columns: list[float] | None = None
               ) -> tuple[list[LocatedCell], list[Finding], list[list[int]] | None]:
    n = len(paths)
    tokens = list(group.tokens)
    findings: list[Finding] = []
    glued = len(tokens) == 1 and len(tokens[0].digits) >= n
    if columns is not None and not group.structured and len(tokens) < n and not glued and _spaced(group, text):
        placed = _place_by_columns(group, text, columns)
        if placed is not None:
            cells, more = _token_cells(placed, paths)
            return cells, more, None
    if group.structured and len(tokens) < n and len(tokens) + group.trailing_blanks >= n:
        last = tokens[-1].end
        tokens += [Token("blank", last, last, "") for _ in range(n - len(tokens))]
    while len(tokens) > n and tokens[0].kind == "blank":
        tokens.pop(0)  # blank padding cells before a full row of values (seed 002's 结转 row)
    if len(tokens) >= n:
        if len(tokens) > n:
            extra = " ".join(t.raw or "□" for t in tokens[n:])
            findings.append(_reader_finding(paths, f"{_row_name(paths[0])} 一行印有 {len(tokens)} 个单元格，多出的「{extra}」未读入",
                                            severity="info", attribution="report"))
        cells, more = _token_cells(tokens[:n], paths)
        return cells, findings + more, None
    nums = [t for t in tokens if t.kind == "num"]
    if nums and len(nums) == len(tokens) and all(re.fullmatch(r"\d+", t.raw.replace(" ", "")) for t in nums):
        digits = "".join(t.digits for t in nums)
        cands = split_row_with_total(digits, n)
        if len(cands) == 1:
            return _split_cells(group, text, paths, cands[0], "split", []), findings, None
        if len(cands) > 1:
            return _split_cells(group, text, paths, cands[0], "ambiguous", cands), findings, cands
        if len(digits) == n:
            values = [int(d) for d in digits]
            return _split_cells(group, text, paths, values, "split", []), findings, None
    # fewer cells than the row has and no split explains them: keep them left-aligned, flagged
    padded = tokens + [Token("blank", tokens[-1].end, tokens[-1].end, "") for _ in range(n - len(tokens))]
    cells, more = _token_cells(padded, paths)
    for c in cells:
        c.match = "uncertain"
    findings.append(_reader_finding(paths, f"{_row_name(paths[0])} 一行只印有 {len(tokens)} 个数（应为 {n} 个），位置无法确定",
                                    found=" ".join(t.raw for t in tokens)))
    return cells, findings + more, None


def _value(rows: dict[str, list[LocatedCell] | None], key: str, col: int) -> int:
    row = rows.get(key)
    if not row:
        return 0
    v = row[col].value
    return v if isinstance(v, int) else 0


def _consistent(rows: dict[str, list[LocatedCell] | None], keys: list[str]) -> bool:
    outcome = [k for k in keys if k not in ("new_received", "carried_over", "total", "carried_forward")]
    for col in range(7):
        if _value(rows, "new_received", col) + _value(rows, "carried_over", col) != _value(rows, "total", col) + _value(rows, "carried_forward", col):
            return False
        if rows.get("total") and sum(_value(rows, k, col) for k in outcome) != _value(rows, "total", col):
            return False
    return True


def _resolve_ambiguous_rows(rows: dict[str, list[LocatedCell] | None], ambiguous: dict[str, tuple[Group, list[list[int]]]],
                            keys: list[str], text: str, reading: TableReading) -> None:
    names = list(ambiguous)
    options = [ambiguous[k][1] for k in names]
    total = 1
    for o in options:
        total *= len(o)
    fits: list[tuple[list[int], ...]] = []
    if total <= MAX_COMBINATIONS:
        for combo in itertools.product(*options):
            trial = dict(rows)
            for key, values in zip(names, combo):
                paths = [f"applications.{key}[{c}]" for c in range(7)]
                trial[key] = [LocatedCell(p, v, None, None) for p, v in zip(paths, values)]
            if _consistent(trial, keys):
                fits.append(combo)
                if len(fits) > 50:
                    break
    for idx, key in enumerate(names):
        group, cands = ambiguous[key]
        paths = [f"applications.{key}[{c}]" for c in range(7)]
        values_here = {tuple(f[idx]) for f in fits}
        raw = "".join(t.raw for t in group.tokens)
        if len(values_here) == 1:
            chosen = list(next(iter(values_here)))
            rows[key] = _split_cells(group, text, paths, chosen, "split", [])
            for c in rows[key] or []:
                c.note = f"glued run 「{raw}」 split by the column totals"
        else:
            pool = [list(v) for v in values_here] if values_here else cands
            rows[key] = _split_cells(group, text, paths, pool[0], "ambiguous", pool)
            alts = "；".join("/".join(str(x) for x in c) for c in pool[:4])
            reading.findings.append(_reader_finding(
                paths, f"{_row_name(paths[0])} 连写数字「{raw}」有多种拆分（{alts}），已取第一种，请核对",
                found=raw))


# ---------------------------------------------------------------- 二
def read_table2(text: str, span: tuple[int, int], template: str, prose: str) -> TableReading:
    start, end = span
    specs = ACTIVE_ROWS[template]
    keys = [s[0] for s in specs]
    anchors = []
    for idx, key in enumerate(keys):
        m = re.search(TABLE2_LABELS[key], text[start:end])
        if m:
            anchors.append(Anchor(idx, key, start + m.start(), start + m.end()))
    # 「规范性文件」 inside 「行政规范性文件」 and 「行政许可」 inside longer labels must not double-anchor
    anchors = [a for a in anchors if not any(b is not a and b.start <= a.start and a.end <= b.end and (b.end - b.start) > (a.end - a.start) for b in anchors)]
    reading = TableReading()
    if not anchors:
        reading.rows_missing = keys
        return reading
    masked = mask(text, anchors)
    first = min(a.start for a in anchors)
    groups = line_groups(masked, first, end)
    _label_groups(groups, anchors, masked, 1)
    for row_idx, (key, _label, fields) in enumerate(specs):
        labelled = [g for g in groups if g.label_row == row_idx]
        if not labelled:
            reading.rows_missing.append(key)
            continue
        reading.rows_found.append(key)
        reading.row_tokens[f"active_disclosure.{key}"] = _numbers_of(labelled[0])
        cells, findings = _row2_cells(labelled[0], masked, key, fields, prose)
        reading.findings.extend(findings)
        for c in cells:
            reading.cells[c.path] = c
    reading.found = bool(reading.rows_found)
    return reading


def _row2_cells(group: Group, text: str, key: str, fields: tuple[tuple[str, str, str], ...], prose: str) -> tuple[list[LocatedCell], list[Finding]]:
    value_fields = [f for f in fields if f[2] != "unit"]
    paths = [f"active_disclosure.{key}.{f[0]}" for f in value_fields]
    unit_path = next((f"active_disclosure.{key}.{f[0]}" for f in fields if f[2] == "unit"), None)
    tokens = list(group.tokens)
    n = len(value_fields)
    findings: list[Finding] = []
    if group.structured and len(tokens) < n and len(tokens) + group.trailing_blanks >= n:
        tokens += [Token("blank", tokens[-1].end, tokens[-1].end, "") for _ in range(n - len(tokens))]
    cells: list[LocatedCell]
    if len(tokens) >= n:
        cells, more = _token_cells(tokens[:n], paths)
        findings += more
    else:
        cells, more = _glued_row2(group, text, key, value_fields, paths, prose)
        findings += more
    # kinds: ints must be ints, decimals strings, units from the printed cell
    unit: str | None = None
    for cell, (_fkey, _flabel, kind) in zip(cells, value_fields):
        if cell.value is None:
            continue
        value, cell_unit, _ = parse_number(cell.raw) if cell.match == "exact" else (cell.value, _unit_of(cell.raw), None)
        if cell_unit:
            unit = cell_unit
        if kind == "decimal":
            cell.value = str(value).lstrip("+") if value is not None else None
        elif isinstance(value, str):  # a decimal where a count belongs
            findings.append(_reader_finding([cell.path], f"{cell_label(cell.path)} 应为整数，报告印为「{cell.raw}」", found=cell.raw))
            cell.value = None
            cell.match = "uncertain"
        else:
            cell.value = value
    if unit_path is not None:
        amount_cell = cells[-1] if cells else None
        s = amount_cell.start if amount_cell else None
        cells.append(LocatedCell(unit_path, unit, s, amount_cell.end if amount_cell else None, unit or "",
                                 "exact" if unit else "blank"))
    return cells, findings


def _unit_of(raw: str) -> str | None:
    m = re.search(r"(万?元)\s*$", raw)
    return m.group(1) if m else None


def _row_name(path: str) -> str:
    label = cell_label(path)
    return label.split("（")[0].split("·")[0] if not label.startswith("（") else label.split("）")[0] + "）" + label.split("）")[1].split("（")[0]


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


def _glued_row2(group: Group, text: str, key: str, value_fields: list[tuple[str, str, str]], paths: list[str],
                prose: str) -> tuple[list[LocatedCell], list[Finding]]:
    n = len(value_fields)
    raw = "".join(t.raw for t in group.tokens)
    joined = re.sub(r"\s+", "", raw)
    unit_m = re.search(r"(万?元)$", joined)
    body = joined[: unit_m.start()] if unit_m else joined
    decimal_tail = ""
    m = re.match(r"^(\d+)(\.\d+)?$", body)
    if not m:
        cells, findings = _token_cells(group.tokens[:n], paths)
        return cells + [LocatedCell(p, None, None, None, "", "blank") for p in paths[len(cells):]], findings
    digits, decimal_tail = m.group(1), m.group(2) or ""
    cands = split_free(digits, n)
    if not cands:
        return [LocatedCell(p, None, None, None, "", "blank") for p in paths], [
            _reader_finding(paths, f"{_row_name(paths[0])} 行的数字「{raw}」无法拆分为 {n} 个单元格", found=raw)]
    fields = [f[0] for f in value_fields]

    def plausible(values: list[int]) -> int:
        score = 0
        d = dict(zip(fields, values))
        for fk, v in d.items():
            if v in _prose_numbers(prose, _PROSE_KEYS.get(fk, ())):
                score += 3
        if {"issued", "repealed", "in_force"} <= d.keys() and d["in_force"] >= d["issued"] - d["repealed"]:
            score += 1
        if {"made", "published"} <= d.keys() and d["made"] == d["published"]:
            score += 1  # newly made documents are normally the ones newly published
        if "change" in d and d["change"] == 0:
            score += 1  # most item counts do not change from one year to the next
        return score

    def balance(values: list[int]) -> int:
        lengths = [len(str(v)) for v in values]
        return max(lengths) - min(lengths)

    scored = sorted(cands, key=lambda v: (-plausible(v), balance(v)))
    best = scored[0]
    ties = [c for c in scored if plausible(c) == plausible(best)]
    values_str = [str(v) for v in best]
    if decimal_tail:
        values_str[-1] += decimal_tail
    spans = split_spans(group.tokens, text, values_str)
    cells: list[LocatedCell] = []
    kind = "split" if len(ties) == 1 else "ambiguous"
    for idx, (p, vs, (s, e)) in enumerate(zip(paths, values_str, spans)):
        alts = sorted({c[idx] for c in ties if c[idx] != best[idx]})
        value: int | str = vs if "." in vs else int(vs)
        cells.append(LocatedCell(p, value, s, e, vs + (unit_m.group(1) if unit_m and idx == n - 1 else ""), kind,  # type: ignore[arg-type]
                                 candidates=list(alts), note=f"part of the glued run 「{raw}」"))
    findings: list[Finding] = []
    if len(ties) > 1:
        alts = "；".join("/".join(str(x) for x in c) + decimal_tail for c in ties[:4])
        findings.append(_reader_finding(paths, f"{_row_name(paths[0])} 连写数字「{raw}」有 {len(ties)} 种拆分（{alts}…），"
                                        f"已取「{'/'.join(values_str)}」，请对照原文核对", found=raw))
    return cells, findings


# ---------------------------------------------------------------- 四
_REVIEW_HEADER_RE = re.compile(r"维\s*持|纠\s*正|其\s*他(?:\s*结\s*果)?|尚\s*未(?:\s*审\s*结)?|总\s*计")


def _table4_by_columns(text: str, start: int, end: int, groups: list[Group]) -> tuple[Group, list[Token]] | None:
    """A layout (PDF) row of section 四 that leaves cells blank: place its numbers under the 15 headers."""
    data = next((g for g in groups if not g.structured and len(g.tokens) >= 2 and _spaced(g, text)), None)
    if data is None:
        return None
    centres: list[float] = []
    for m in _REVIEW_HEADER_RE.finditer(text, start, data.start):
        line_start = text.rfind("\n", 0, m.start()) + 1
        centre = m.start() - line_start + (m.end() - m.start()) / 2
        if all(abs(centre - c) > 2 for c in centres):
            centres.append(centre)
    if len(centres) != 15:
        return None
    centres.sort()
    placed = _place_by_columns(data, text, centres)
    return None if placed is None else (data, placed)


def read_table4(text: str, span: tuple[int, int]) -> TableReading:
    start, end = span
    reading = TableReading()
    paths = [f"review_litigation.{g}.{c}" for g, _ in REVIEW_GROUPS for c, _ in REVIEW_COLUMNS]
    header = re.search(r"结\s*果\s*维\s*持|维\s*持", text[start:end])
    region_start = start + (header.start() if header else 0)
    groups = line_groups(text, region_start, end)
    chosen: Group | None = None
    tokens: list[Token] = []
    for g in groups:
        toks = list(g.tokens)
        if g.structured and len(toks) < 15 <= len(toks) + g.trailing_blanks:
            toks += [Token("blank", toks[-1].end, toks[-1].end, "") for _ in range(15 - len(toks))]
        if len(toks) >= 15 or sum(len(t.digits) for t in toks) >= 15:
            chosen, tokens = g, toks
            break
    if chosen is None:
        placed = _table4_by_columns(text, region_start, end, groups)
        if placed is not None:
            chosen, tokens = placed
    if chosen is None:
        # a row broken over several lines: gather consecutive groups up to 15 cells
        acc: list[Token] = []
        for g in groups:
            acc.extend(g.tokens)
            if len(acc) >= 15:
                break
        if len(acc) == 15:
            tokens = acc
            chosen = groups[0]
    if chosen is None:
        reading.rows_missing = [g for g, _ in REVIEW_GROUPS]
        return reading
    reading.found = True
    reading.rows_found = [g for g, _ in REVIEW_GROUPS]
    numbers = _numbers_of(Group(tokens=tokens, start=0, end=0, line=0, structured=False))
    for g, _ in REVIEW_GROUPS:
        reading.row_tokens[f"review_litigation.{g}"] = numbers
    if len(tokens) >= 15:
        if len(tokens) > 15:
            reading.findings.append(_reader_finding(paths, f"行政复议、行政诉讼表印有 {len(tokens)} 个数（应为 15 个），多出的未读入",
                                                    severity="info", attribution="report"))
        cells, findings = _token_cells(tokens[:15], paths)
        reading.findings.extend(findings)
    else:
        digits = "".join(t.digits for t in tokens)
        if len(digits) == 15:
            values = [int(d) for d in digits]
            cells = _split_cells(chosen, text, paths, values, "split", [])
        else:
            cands = split_groups_with_totals(digits)
            if cands:
                cells = _split_cells(chosen, text, paths, cands[0], "split" if len(cands) == 1 else "ambiguous", cands)
                if len(cands) > 1:
                    reading.findings.append(_reader_finding(paths, f"行政复议、行政诉讼表的连写数字「{digits}」有多种拆分，已取第一种，请核对", found=digits))
            else:
                reading.findings.append(_reader_finding(paths, f"行政复议、行政诉讼表的数字「{digits}」无法拆分为 15 个单元格", found=digits))
                reading.found = False
                return reading
    for c in cells:
        reading.cells[c.path] = c
    return reading


__all__ = ["TableReading", "read_table2", "read_table3", "read_table4", "detect_single_other_row"]
