"""A canonical report laid out as the national template prints it, and rendered into the files people
download: an HTML page, a Word .docx and a PDF (the text flattenings are in ``evals.synth.flatten``).

The document is laid out as the national template prints it (template_spec labels, the merged
header cells, rowspan group labels such as 「（三）不予公开」), so reading it back exercises the same
structure real reports have. Blank cells (null in the gold) are printed empty (&nbsp; in HTML).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from typing import Any

from extractor.ingest.tables import SpanCell
from extractor.template_spec import (
    ACTIVE_BLOCKS,
    ACTIVE_ROWS,
    ALL_APPLICATION_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    application_row_keys,
)


@dataclass(frozen=True)
class Para:
    text: str
    heading: bool = False


@dataclass(frozen=True)
class Table:
    rows: list[list[SpanCell]]


Block = Para | Table



def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _active_table(gold: dict[str, Any]) -> Table:
    template = gold["template"]
    active = gold["active_disclosure"] or {}
    specs = {spec[0]: spec for spec in ACTIVE_ROWS[template]}
    width = 4
    rows: list[list[SpanCell]] = []
    for item, row_keys in ACTIVE_BLOCKS[template]:
        present = [k for k in row_keys if active.get(k) is not None]
        if not present:
            continue
        rows.append([SpanCell(item, colspan=width)])
        fields = [f for f in specs[present[0]][2] if f[2] != "unit"]
        span = (width - 1) // len(fields)
        header = [SpanCell("信息内容")]
        for i, (_key, label, _kind) in enumerate(fields):
            header.append(SpanCell(label, colspan=span + ((width - 1) % len(fields) if i == len(fields) - 1 else 0)))
        rows.append(header)
        for key in present:
            values = active[key]
            line = [SpanCell(specs[key][1])]
            for i, (fkey, _label, _kind) in enumerate(fields):
                text = _cell(values.get(fkey))
                if key == "procurement" and fkey == "amount" and text and values.get("amount_unit"):
                    text += values["amount_unit"]
                line.append(SpanCell(text, colspan=header[i + 1].colspan))
            rows.append(line)
    return Table(rows)


def _split_label(key: str) -> tuple[str | None, str]:
    label = ALL_APPLICATION_LABELS[key]
    group, _, sub = label.partition(" ")
    return (group, sub) if sub else (None, label)


def _applications_table(gold: dict[str, Any]) -> Table:
    apps = gold["applications"]
    single_other = "other_processing" in apps
    keys = [k for k in application_row_keys(single_other) if k in apps]
    values = {k: [SpanCell(_cell(v)) for v in (apps[k] or [None] * 7)] for k in keys}
    rows: list[list[SpanCell]] = [
        [SpanCell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3),
         SpanCell("申请人情况", colspan=7)],
        [SpanCell("自然人", rowspan=2), SpanCell("法人或其他组织", colspan=5), SpanCell("总计", rowspan=2)],
        [SpanCell(c) for c in APPLICANT_COLUMNS[1:6]],
    ]
    outcome = [k for k in keys if k not in ("new_received", "carried_over", "carried_forward")]
    # Sub-rows of one group (「（三）不予公开」 1…8) share a rowspan cell holding the group label.
    group_size: dict[str, int] = {}
    opener: str | None = None
    for k in outcome:
        group, sub = _split_label(k)
        if group is not None:
            opener = k
            group_size[k] = 1
        elif opener is not None and sub[:1].isdigit():
            group_size[opener] += 1
        else:
            opener = None
    for k in keys:
        group, sub = _split_label(k)
        if k in ("new_received", "carried_over", "carried_forward"):
            rows.append([SpanCell(sub, colspan=3), *values[k]])
            continue
        line: list[SpanCell] = []
        if k == outcome[0]:
            line.append(SpanCell("三、本年度办理结果", rowspan=len(outcome)))
        if k in group_size:
            line.append(SpanCell(group or "", rowspan=group_size[k]))
            line.append(SpanCell(sub))
        elif sub[:1].isdigit():
            line.append(SpanCell(sub))
        else:
            line.append(SpanCell(sub if k != "partially_granted" else "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", colspan=2))
        rows.append(line + values[k])
    return Table(rows)


def _review_table(gold: dict[str, Any]) -> Table:
    review = gold["review_litigation"] or {}
    cols = [label for _k, label in REVIEW_COLUMNS]
    data: list[SpanCell] = []
    for group_key, _label in REVIEW_GROUPS:
        group = review.get(group_key) or {}
        data.extend(SpanCell(_cell(group.get(c))) for c, _l in REVIEW_COLUMNS)
    return Table([
        [SpanCell("行政复议", colspan=5), SpanCell("行政诉讼", colspan=10)],
        [*(SpanCell(c, rowspan=2) for c in cols), SpanCell("未经复议直接起诉", colspan=5), SpanCell("复议后起诉", colspan=5)],
        [SpanCell(c) for c in cols * 2],
        data,
    ])


@dataclass(frozen=True)
class Prose:
    """The report's running text. ``after_2``/``after_3`` follow tables 二 and 三 before the next heading
    (glued crawls run them straight into the table's last cell: 「…继续办理20000022025年，我局…」)."""

    overview: str = "本机关坚持以公开为常态、不公开为例外，认真做好主动公开、依申请公开和政府信息管理工作。"
    # prose that opens a section before its table, repeating a row's label with a figure (「制发规范性文件5件」)
    before_2: str | None = None
    before_3: str | None = None
    after_2: str | None = None
    after_3: str | None = None
    problems: str = "政策解读的形式还不够丰富，下一步将进一步加强解读工作。"
    other: str = "无。"


def report_blocks(gold: dict[str, Any], prose: Prose | None = None) -> list[Block]:
    """The whole report as paragraphs and tables, in print order."""
    prose = prose or Prose()
    year = gold["year"]
    agency = gold["agency"] or ""
    title = f"{agency}{year}年政府信息公开工作年度报告" if agency else f"{year}年度政府信息公开工作年度报告"
    blocks: list[Block] = [
        Para(title, heading=True),
        Para(f"本年度报告根据《中华人民共和国政府信息公开条例》要求编制，所列数据统计期限为{year}年1月1日到12月31日。"),
        Para("一、总体情况", heading=True),
        Para(prose.overview),
        Para("二、主动公开政府信息情况", heading=True),
        *([Para(prose.before_2)] if prose.before_2 else []),
        _active_table(gold),
    ]
    if prose.after_2:
        blocks.append(Para(prose.after_2))
    blocks += [Para("三、收到和处理政府信息公开申请情况", heading=True),
               *([Para(prose.before_3)] if prose.before_3 else []), _applications_table(gold)]
    if prose.after_3:
        blocks.append(Para(prose.after_3))
    blocks += [
        Para("四、政府信息公开行政复议、行政诉讼情况", heading=True),
        _review_table(gold),
        Para("五、存在的主要问题及改进情况", heading=True),
        Para(prose.problems),
        Para("六、其他需要报告的事项", heading=True),
        Para(prose.other),
    ]
    return blocks


def place(rows: list[list[SpanCell]]) -> tuple[list[tuple[int, int, SpanCell]], int]:
    """Grid position (row, column) of every declared cell, and the grid width."""
    taken: set[tuple[int, int]] = set()
    out: list[tuple[int, int, SpanCell]] = []
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            out.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
            width = max(width, c)
    return out, width


# ---------------------------------------------------------------- HTML
def to_html(blocks: list[Block], charset: str = "utf-8") -> bytes:
    """A page with site chrome around the article (nav, header, footer, script, style)."""
    parts = [
        "<!DOCTYPE html><html><head>",
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">',
        "<title>政府信息公开</title><style>td{border:1px solid #000} .x{color:red}</style>",
        "<script>var visits = 98765; function go(){ return 4321; }</script></head><body>",
        '<header class="site"><div>首页 | 政务公开 | 互动交流 | 访问量 24680</div></header>',
        "<nav><ul><li>网站地图</li><li>无障碍 13579</li></ul></nav>",
        '<div class="article">',
    ]
    for block in blocks:
        if isinstance(block, Para):
            tag = "h2" if block.heading else "p"
            parts.append(f"<{tag}>{html.escape(block.text)}</{tag}>")
            continue
        parts.append('<table border="1" cellspacing="0"><tbody>')
        for row in block.rows:
            parts.append("<tr>")
            for cell in row:
                attrs = (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "") + (
                    f' colspan="{cell.colspan}"' if cell.colspan > 1 else "")
                text = html.escape(cell.text) if cell.text else "&nbsp;"
                parts.append(f'<td{attrs}><p align="center">{text}</p></td>')
            parts.append("</tr>")
        parts.append("</tbody></table>")
    parts += ["</div>", "<footer>主办单位：某某办公室 版权所有 备案号 12345678</footer>", "</body></html>"]
    return "\n".join(parts).encode(charset)


# ---------------------------------------------------------------- DOCX
def to_docx(blocks: list[Block]) -> bytes:
    from docx import Document

    document = Document()
    for block in blocks:
        if isinstance(block, Para):
            if block.heading:
                document.add_heading(block.text, level=2)
            else:
                document.add_paragraph(block.text)
            continue
        cells, width = place(block.rows)
        table = document.add_table(rows=len(block.rows), cols=width)
        table.style = "Table Grid"
        for r, c, cell in cells:
            target = table.cell(r, c)
            if cell.rowspan > 1 or cell.colspan > 1:
                target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
            target.text = cell.text
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- PDF
_PDF_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if _PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_PDF_FONT))


def _pdf_table(block: Table, font_size: float) -> Any:  # a reportlab Table flowable (untyped library)
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    cells, width = place(block.rows)
    height = len(block.rows)
    data = [[""] * width for _ in range(height)]
    widths = [24.0] * width
    pad = 8.0
    for r, c, cell in cells:
        data[r][c] = cell.text
        if cell.colspan == 1:
            widths[c] = max(widths[c], stringWidth(cell.text, _PDF_FONT, font_size) + pad)
    for r, c, cell in cells:  # a spanning cell wider than its columns widens its last column
        if cell.colspan > 1:
            need = stringWidth(cell.text, _PDF_FONT, font_size) + pad
            have = sum(widths[c : c + cell.colspan])
            if need > have:
                widths[c + cell.colspan - 1] += need - have
    style = [
        ("FONT", (0, 0), (-1, -1), _PDF_FONT, font_size),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
    ]
    for r, c, cell in cells:
        if cell.rowspan > 1 or cell.colspan > 1:
            style.append(("SPAN", (c, r), (c + cell.colspan - 1, r + cell.rowspan - 1)))
    return RLTable(data, colWidths=widths, style=TableStyle(style), repeatRows=0)


CHROMIUM_ENV = "NIANBAO_CHROMIUM"  # the browser that prints pages to PDF (default: Debian's chromium)


class _BrowserPrinter:
    """One headless chromium kept open for many prints (a launch costs about a second)."""

    def __init__(self) -> None:
        self._pw: Any = None
        self._browser: Any = None

    def print_pdf(self, page_html: bytes) -> bytes:
        if self._browser is None:
            import atexit
            import os

            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(
                executable_path=os.environ.get(CHROMIUM_ENV, "/usr/bin/chromium"),
                args=["--headless", "--no-sandbox", "--disable-gpu"])
            atexit.register(self.close)
        page = self._browser.new_page()
        try:
            page.set_content(page_html.decode("utf-8"), wait_until="load")
            # A4 portrait, as "print to PDF" offers it: wide tables wrap their headers, as real prints do
            pdf: bytes = page.pdf(format="A4", print_background=False)
            return pdf
        finally:
            page.close()

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._pw.stop()
            self._browser = self._pw = None


_PRINTER = _BrowserPrinter()


def close_browser_printer() -> None:
    """Stop the chromium that ``to_browser_pdf`` keeps open. Playwright's sync API runs an event loop while
    it is open, so nothing else in the process may start its own sync Playwright until it is closed."""
    _PRINTER.close()


def to_browser_pdf(blocks: list[Block]) -> bytes:
    """The HTML page printed to PDF by headless chromium: the text layer a browser writes (Kangxi radicals
    for some characters, table headers broken over lines), not one we lay out ourselves."""
    return _PRINTER.print_pdf(to_html(blocks))


def to_pdf(blocks: list[Block]) -> bytes:
    """Landscape A4 in the built-in CID font STSong-Light (no font file needed)."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    _register_font()
    body = ParagraphStyle("body", fontName=_PDF_FONT, fontSize=10, leading=15, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=12, leading=18)
    story = []
    for block in blocks:
        if isinstance(block, Para):
            story.append(Paragraph(html.escape(block.text), head if block.heading else body))
        else:
            story.append(_pdf_table(block, font_size=7))
            story.append(Spacer(1, 8))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=28, rightMargin=28, topMargin=36, bottomMargin=36,
                      title="report").build(story)
    return buf.getvalue()


def render(gold: dict[str, Any], fmt: str, prose: Prose | None = None) -> bytes:
    blocks = report_blocks(gold, prose)
    if fmt == "html":
        return to_html(blocks)
    if fmt == "html-gb":
        return to_html(blocks, charset="gb2312")
    if fmt == "docx":
        return to_docx(blocks)
    if fmt == "pdf":
        return to_pdf(blocks)
    raise ValueError(fmt)
