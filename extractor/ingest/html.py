"""HTML page → readable text: one line per paragraph, tables as tab-separated rows (see tables.py).

Page chrome (scripts, styles, navigation, site header and footer, forms) is dropped. A table that
holds other tables is page layout, not data: its cells are read as ordinary blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, PageElement, Tag
from bs4.element import CData, Declaration, ProcessingInstruction

from extractor.ingest.tables import SpanCell, join_pieces, layout_spans, render_grid

_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "iframe", "object", "embed", "svg", "canvas",
    "form", "button", "select", "textarea", "input", "head", "map", "audio", "video",
})
# Site chrome, unless it sits inside the article itself (an <article><header> holds the report title).
_CHROME_TAGS = frozenset({"header", "footer", "aside"})
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "body", "html", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "address", "figure", "figcaption",
    "center", "hr", "caption", "fieldset", "legend", "details", "summary", "header", "footer", "aside",
    "tr", "td", "th", "thead", "tbody", "tfoot", "table",
})
_SKIP_NODES = (Comment, Doctype, CData, Declaration, ProcessingInstruction)
_SPACE_RE = re.compile(r"[ \t\r\n\f\xa0\u3000]+")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HTML_START_RE = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
_HTML_TAG_RE = re.compile(r"</(?:p|div|td|tr|table|span|h[1-6]|li|body|html|font|strong)\s*>|<br\s*/?>", re.I)


def declared_charset(data: bytes) -> str | None:
    """The charset a page names in its <meta> (or XML declaration), from the first 4 KB."""
    head = data[:4096]
    m = _META_CHARSET_RE.search(head) or re.search(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", head)
    return m.group(1).decode("ascii", "replace") if m else None


def looks_like_html(text: str) -> bool:
    """True for a page or an HTML fragment (d014.html starts with a bare <p>)."""
    head = text[:65536]
    if _HTML_START_RE.match(head):
        return True
    return head.lstrip().startswith("<") and len(_HTML_TAG_RE.findall(head)) >= 3


class _Renderer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buf: list[str] = []

    def flush(self) -> None:
        line = _SPACE_RE.sub(" ", "".join(self.buf)).strip()
        if line:
            self.lines.append(line)
        self.buf = []

    def walk(self, node: Tag, in_article: bool = False) -> None:
        # An explicit stack, not recursion: a hostile page nests tags a hundred thousand deep.
        # Each entry: the children still to visit, inside <article>/<main>, and whether the
        # element is a block (its text ends a line when the element ends).
        stack: list[tuple[Iterator[PageElement], bool, bool]] = [(iter(node.children), in_article, False)]
        while stack:
            children, article, block = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if block:
                    self.flush()
                continue
            if isinstance(child, _SKIP_NODES):
                continue
            if isinstance(child, NavigableString):
                self.buf.append(str(child))
                continue
            if not isinstance(child, Tag) or _is_hidden(child):
                continue
            name = child.name.lower()
            if name in _DROP_TAGS or (name in _CHROME_TAGS and not article):
                continue
            if name == "br":
                self.flush()
                continue
            if name == "table" and child.find("table") is None:
                self.flush()
                self.lines.extend(render_grid(layout_spans(_table_rows(child))))
                continue
            is_block = name in _BLOCK_TAGS
            if is_block:
                self.flush()
            stack.append((iter(child.children), article or name in ("article", "main"), is_block))


def _is_hidden(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    style = tag.get("style")
    return isinstance(style, str) and bool(_HIDDEN_STYLE_RE.search(style))


def _span(tag: Tag, attr: str) -> int:
    raw = tag.get(attr)
    m = re.match(r"\s*(\d+)", raw if isinstance(raw, str) else "")
    return int(m.group(1)) if m else 1


def _cell_text(cell: Tag) -> str:
    """A cell's text with its <br>/<p> lines joined (tables.join_pieces)."""
    pieces: list[str] = []
    buf: list[str] = []
    for node in cell.descendants:
        if isinstance(node, _SKIP_NODES):
            continue
        if isinstance(node, NavigableString):
            if not any(isinstance(p, Tag) and (p.name in _DROP_TAGS or _is_hidden(p)) for p in node.parents):
                buf.append(str(node))
        elif isinstance(node, Tag) and (node.name == "br" or node.name in _BLOCK_TAGS):
            pieces.append("".join(buf))
            buf = []
    pieces.append("".join(buf))
    return join_pieces(pieces)


def _table_rows(table: Tag) -> list[list[SpanCell]]:
    rows: list[list[SpanCell]] = []
    for tr in table.find_all("tr"):
        cells = [
            SpanCell(_cell_text(td), rowspan=_span(td, "rowspan"), colspan=_span(td, "colspan"))
            for td in tr.find_all(["td", "th"], recursive=False)
            if not _is_hidden(td)
        ]
        rows.append(cells)
    caption = table.find("caption")
    if caption is not None and caption.get_text(strip=True):
        rows.insert(0, [SpanCell(_cell_text(caption))])
    return rows


def html_to_text(markup: str) -> str:
    """Render an HTML page or fragment to the text the readers and the UI use."""
    soup = BeautifulSoup(markup, "lxml")
    renderer = _Renderer()
    root = soup.body or soup
    renderer.walk(root)
    renderer.flush()
    lines = renderer.lines
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    # The <title> is often the only place the report names itself in full; keep it unless the body repeats it.
    if title and not any(title in line or "报告" in line for line in lines[:20]):
        lines.insert(0, title)
    return "\n".join(lines) + ("\n" if lines else "")
