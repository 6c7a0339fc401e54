"""A synthetic report in every form a user meets it: the text flattenings crawlers and converters make,
and the files themselves (HTML, Word, PDF) read back through ingest.

Text flattenings work on the template's table cells in document order, as a crawler sees them (a merged
cell once, where it starts):

- ``pipes``  ``label | v | v``, one row per line;   ``markdown``  ``| label | v | v |`` with ``|---|`` rows;
- ``markdown_floated``  markdown where one row lost a cell, printed on a line of its own above the table
  (converter output: 「| 规章 | 22 | 235 |」 with the missing cell floated away);
- ``tabs``  one row per line, a TAB between cells;   ``cell_per_line``  every cell on its own line;
- ``layout``  PDF layout text: values centred under their column headers, blank cells as spaces;
- ``glued``  every cell run together with no separator, the body on one line (crawled pages);
- ``glued_spaces``  glued, with a stray space between some cells (never inside a number);
- ``layout_kangxi``  layout text as a browser's "print to PDF" text layer often has it: every character
  that has a Kangxi radical or CJK radical-supplement form written in that form (「⼆、主动公开」, 「⾏政」);
- ``cell_per_line_paged``, ``layout_paged``  those forms with a PDF page footer (「- 3 -」, 「3」, 「第 3 页」,
  「3 / 8」…) on a line of its own between two rows of a table, where a page break cut it.

Files: ``html``, ``docx``, ``pdf`` (``evals.synth.documents``), read with ``extractor.ingest.load_bytes``;
``browser_pdf`` is the HTML page printed to PDF by headless chromium.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from evals.synth.documents import Block, Para, Table, report_blocks, to_browser_pdf, to_docx, to_html, to_pdf
from evals.synth.generate import Synthetic
from extractor.cjk_compat import unified_map
from extractor.ingest import SourceDocument, load_bytes, load_text
from extractor.template_spec import (
    ACTIVE_BLOCKS,
    ACTIVE_ROWS,
    ALL_APPLICATION_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    application_row_keys,
)

TEXT_STYLES: tuple[str, ...] = (
    "pipes", "markdown", "markdown_floated", "tabs", "cell_per_line", "layout", "glued", "glued_spaces",
    "layout_kangxi", "cell_per_line_paged", "layout_paged",
)
FILE_STYLES: tuple[str, ...] = ("html", "docx", "pdf")
# printed by headless chromium (Playwright): needs the browser, so benchmarks and browser tests ask for it
BROWSER_STYLES: tuple[str, ...] = ("browser_pdf",)
STYLES: tuple[str, ...] = TEXT_STYLES + FILE_STYLES + BROWSER_STYLES

Row = list[str]


def _rows(table: Table) -> list[Row]:
    return [[c.text for c in row] for row in table.rows]


def _is_value(text: str) -> bool:
    return text == "" or text[0].isdigit() or text[0] == "-"


# ---------------------------------------------------------------- line-based styles
def _lines(blocks: list[Block], row_fn: Callable[[Row], list[str]], table_sep: Callable[[Row], list[str]] | None = None
           ) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Para):
            out.append(block.text)
            continue
        for i, row in enumerate(_rows(block)):
            out += row_fn(row)
            if i == 0 and table_sep is not None:
                out += table_sep(row)
    return "\n".join(out) + "\n"


def _pipes(blocks: list[Block], _gold: dict[str, Any], _rng: random.Random) -> str:
    return _lines(blocks, lambda row: [" | ".join(row)])


def _markdown_row(row: Row) -> list[str]:
    return ["| " + " | ".join(row) + " |"]


def _markdown(blocks: list[Block], _gold: dict[str, Any], _rng: random.Random) -> str:
    return _lines(blocks, _markdown_row, lambda row: ["|" + "---|" * len(row)])


def _markdown_floated(blocks: list[Block], _gold: dict[str, Any], rng: random.Random) -> str:
    """One data row of table 二 or 三 loses a value cell; the value stands alone above its table."""
    tables = [b for b in blocks if isinstance(b, Table)][:2]
    table = rng.choice(tables)
    candidates = [i for i, row in enumerate(table.rows) if sum(_is_value(c.text) for c in row) >= 2]
    floated: tuple[int, int] | None = None
    if candidates:
        r = rng.choice(candidates)
        values = [j for j, c in enumerate(table.rows[r]) if _is_value(c.text)]
        floated = (r, rng.choice(values))
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Para):
            out.append(block.text)
            continue
        rows = _rows(block)
        if block is table and floated is not None:
            r, j = floated
            out.append(rows[r][j] or "0")
            rows[r] = rows[r][:j] + rows[r][j + 1 :]
        for i, row in enumerate(rows):
            out += _markdown_row(row)
            if i == 0:
                out.append("|" + "---|" * len(row))
    return "\n".join(out) + "\n"


def _tabs(blocks: list[Block], _gold: dict[str, Any], _rng: random.Random) -> str:
    return _lines(blocks, lambda row: ["\t".join(row)])


def _cell_per_line(blocks: list[Block], _gold: dict[str, Any], _rng: random.Random) -> str:
    return _lines(blocks, lambda row: list(row))


# a PDF's page footer, as its text layer prints it between two lines of a table the page break cuts
PAGE_FOOTERS: tuple[str, ...] = ("- {n} -", "{n}", "第 {n} 页", "— {n} —", "{n} / {m}", "第{n}页 共{m}页")


def _paged(text: str, rng: random.Random) -> str:
    """``text`` with a page footer on a line of its own between two rows of the tables (二 to 四): before
    a line that holds words (a row's label or a header), as a page break falls between table rows."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("二、"))
    last = next(i for i, line in enumerate(lines) if line.startswith("五、"))
    breaks = [i for i in range(first + 2, last) if any("\u4e00" <= ch <= "\u9fff" for ch in lines[i])]
    n = rng.randint(2, 9)
    footer = rng.choice(PAGE_FOOTERS).format(n=n, m=n + rng.randint(0, 5))
    lines.insert(rng.choice(breaks), footer)
    return "\n".join(lines)


def _cell_per_line_paged(blocks: list[Block], gold: dict[str, Any], rng: random.Random) -> str:
    return _paged(_cell_per_line(blocks, gold, rng), rng)


def _layout_paged(blocks: list[Block], gold: dict[str, Any], rng: random.Random) -> str:
    return _paged(_layout(blocks, gold, rng), rng)


# ---------------------------------------------------------------- glued
def _glued_with(blocks: list[Block], rng: random.Random, stray: float) -> str:
    pieces: list[str] = []
    for block in blocks:
        if isinstance(block, Para):
            pieces.append(block.text)
            continue
        for row in _rows(block):
            for cell in row:
                if pieces and stray and rng.random() < stray:
                    pieces.append(" ")
                pieces.append(cell)
    head, body = pieces[0], "".join(pieces[1:])
    return head + "\n" + body + "\n"


def _glued(blocks: list[Block], _gold: dict[str, Any], rng: random.Random) -> str:
    return _glued_with(blocks, rng, 0.0)


def _glued_spaces(blocks: list[Block], _gold: dict[str, Any], rng: random.Random) -> str:
    return _glued_with(blocks, rng, 0.3)


# ---------------------------------------------------------------- layout (PDF text)
_LABEL = 44
_FIELD = 10


def _centred(values: list[str]) -> str:
    return "".join(v.center(_FIELD) for v in values).rstrip()


def _layout_row(label: str, values: list[str]) -> str:
    return label.ljust(_LABEL) + _centred(values)


def _layout(blocks: list[Block], gold: dict[str, Any], _rng: random.Random) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Para):
            out.append(block.text)
            continue
        if block is _tables(blocks)[0]:
            out += _layout_active(gold)
        elif block is _tables(blocks)[1]:
            out += _layout_applications(gold)
        else:
            out += _layout_review(gold)
    return "\n".join(out) + "\n"


@lru_cache(maxsize=1)
def _to_radicals() -> dict[int, str]:
    """Unified ideograph → its Kangxi radical (U+2F00–U+2FD5) or radical-supplement (U+2E80–U+2EF3) form:
    the reverse of what the normalizer undoes, restricted to the forms browsers print."""
    table: dict[int, str] = {}
    for code, unified in sorted(unified_map().items(), key=lambda kv: (kv[0] < 0x2F00, kv[0])):  # Kangxi first
        if 0x2E80 <= code <= 0x2FD5:
            table.setdefault(ord(unified), chr(code))
    return table


def _layout_kangxi(blocks: list[Block], gold: dict[str, Any], rng: random.Random) -> str:
    return _layout(blocks, gold, rng).translate(_to_radicals())


def _v(value: Any) -> str:
    return "" if value is None else str(value)


def _layout_active(gold: dict[str, Any]) -> list[str]:
    template = gold["template"]
    specs = {spec[0]: spec for spec in ACTIVE_ROWS[template]}
    active = gold["active_disclosure"] or {}
    out: list[str] = []
    for item, row_keys in ACTIVE_BLOCKS[template]:
        out.append(item)
        fields = [f for f in specs[row_keys[0]][2] if f[2] != "unit"]
        out.append(_layout_row("信息内容", [f[1] for f in fields]))
        for key in row_keys:
            values = active.get(key) or {}
            printed = [_v(values.get(f[0])) for f in fields]
            if key == "procurement" and printed[-1] and values.get("amount_unit"):
                printed[-1] += values["amount_unit"]
            out.append(_layout_row(specs[key][1], printed))
    return out


def _layout_applications(gold: dict[str, Any]) -> list[str]:
    apps = gold["applications"]
    out = [
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）".ljust(_LABEL) + "申请人情况",
        " " * _LABEL + _centred(["", "法人或其他组织"]),
        " " * _LABEL + _centred(list(APPLICANT_COLUMNS)),
    ]
    for key in application_row_keys("other_processing" in apps):
        if key not in apps:
            continue
        label = ALL_APPLICATION_LABELS[key]
        out.append(_layout_row(label, [_v(v) for v in (apps[key] or [None] * 7)]))
    return out


def _layout_review(gold: dict[str, Any]) -> list[str]:
    review = gold["review_litigation"] or {}
    cols = [label for _k, label in REVIEW_COLUMNS]
    values = [_v((review.get(g) or {}).get(c)) for g, _ in REVIEW_GROUPS for c, _ in REVIEW_COLUMNS]
    return [
        _centred(["行政复议", "", "", "", "", "行政诉讼"]),
        _centred(["", "", "", "", "", "未经复议直接起诉", "", "", "", "", "复议后起诉"]),
        _centred(cols * 3),
        _centred(values),
    ]


def _tables(blocks: list[Block]) -> list[Table]:
    return [b for b in blocks if isinstance(b, Table)]


# ---------------------------------------------------------------- entry point
_TEXT: dict[str, Callable[[list[Block], dict[str, Any], random.Random], str]] = {
    "pipes": _pipes, "markdown": _markdown, "markdown_floated": _markdown_floated, "tabs": _tabs,
    "cell_per_line": _cell_per_line, "layout": _layout, "glued": _glued, "glued_spaces": _glued_spaces,
    "layout_kangxi": _layout_kangxi, "cell_per_line_paged": _cell_per_line_paged, "layout_paged": _layout_paged,
}


def render(synth: Synthetic, style: str) -> SourceDocument:
    """The report as a user would hand it to nianbao in this form."""
    gold = synth.report.canonical()
    blocks = report_blocks(gold, synth.prose)
    rng = random.Random(f"{synth.seed}:{style}")
    name = f"{synth.name}.{style}"
    if style in _TEXT:
        return load_text(_TEXT[style](blocks, gold, rng), name + ".txt")
    if style == "html":
        return load_bytes(to_html(blocks), name + ".html")
    if style == "docx":
        return load_bytes(to_docx(blocks), name + ".docx")
    if style == "pdf":
        return load_bytes(to_pdf(blocks), name + ".pdf")
    if style == "browser_pdf":
        return load_bytes(to_browser_pdf(blocks), name + ".pdf")
    raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
