"""Word → text. .docx: paragraphs and tables in document order, read from the body XML (tables as
tab-separated rows, see tables.py). .doc: converted to .docx by LibreOffice in headless mode.

Merged cells are read from the XML, not from python-docx's ``row.cells`` (which repeats a merged
cell in every position it covers): the value goes to the first row it covers, the rows below get an
empty cell in its place (see tables.py for the whole convention).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from extractor.errors import InputError
from extractor.ingest.limits import InputLimits, check_chars, current_limits
from extractor.ingest.tables import Grid, Slot, join_pieces, render_grid
from extractor.ingest.zip_expansion import bounded_package

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CONVERT_TIMEOUT_S = 180


# an lxml element of the document's XML (python-docx's parts are lxml trees; lxml ships no type information)
Element = Any


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _val(el: Element | None, name: str) -> str | None:
    child = el.find(f"{_W}{name}") if el is not None else None
    return None if child is None else child.get(f"{_W}val")


def _paragraph_text(p: Element) -> str:
    """Visible text of a <w:p>: runs, tabs and breaks; deleted text and field codes are not visible."""
    out: list[str] = []
    for el in p.iter():
        tag = _local(el.tag)
        if tag == "t":
            out.append(el.text or "")
        elif tag == "tab" and _local(el.getparent().tag) == "r":
            out.append("\t")
        elif tag in ("br", "cr"):
            out.append("\n")
        elif tag == "noBreakHyphen":
            out.append("-")
    return "".join(out)


def _cell_text(tc: Element) -> str:
    pieces: list[str] = []
    for el in tc.iter(f"{_W}p"):
        pieces.extend(_paragraph_text(el).split("\n"))
    return join_pieces(pieces)


def _table_grid(tbl: Element) -> Grid:
    """Grid of a <w:tbl>: gridSpan is a colspan, vMerge="continue" marks a position a merged cell
    covers from above (its text stays in the first row)."""
    grid: Grid = []
    for tr in tbl.iterchildren(f"{_W}tr"):
        row: list[Slot | None] = []
        tr_pr = tr.find(f"{_W}trPr")
        row.extend(Slot("") for _ in range(int(_val(tr_pr, "gridBefore") or 0)))
        for tc in tr.iterchildren(f"{_W}tc"):
            tc_pr = tc.find(f"{_W}tcPr")
            span = max(1, int(_val(tc_pr, "gridSpan") or 1))
            v_merge = tc_pr.find(f"{_W}vMerge") if tc_pr is not None else None
            continued = v_merge is not None and v_merge.get(f"{_W}val") in (None, "continue")
            if _val(tc_pr, "hMerge") == "continue" and row:
                row.extend(Slot("", lead=False) for _ in range(span))  # legacy horizontal merge
                continue
            text = "" if continued else _cell_text(tc)
            row.extend(Slot(text, lead=i == 0) for i in range(span))
        grid.append(row)
    return grid


def _blocks(parent: Element, lines: list[str]) -> None:
    for el in parent.iterchildren():
        tag = _local(el.tag)
        if tag == "p":
            lines.extend(line.strip() for line in _paragraph_text(el).split("\n"))
        elif tag == "tbl":
            lines.extend(render_grid(_table_grid(el)))
        elif tag in ("sdt", "sdtContent", "customXml", "ins", "smartTag"):
            _blocks(el, lines)  # content controls and tracked insertions wrap ordinary blocks


def docx_to_text(data: bytes, limits: InputLimits | None = None) -> str:
    from docx import Document

    limits = limits or current_limits()
    package = bounded_package(data, limits)
    try:
        document = Document(io.BytesIO(package))
        lines: list[str] = []
        _blocks(document.element.body, lines)
    except Exception as exc:  # python-docx/lxml/zipfile raise many types for damaged files
        raise InputError(f"the Word file cannot be read ({type(exc).__name__})",
                         hint_zh="Word 文件已损坏或不是 .docx 格式，无法读取") from exc
    text = "\n".join(line for line in lines if line.strip())
    return check_chars(text + "\n" if text else "", limits)


def libreoffice() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


def doc_to_docx(data: bytes) -> bytes:
    """Convert legacy .doc bytes to .docx bytes with LibreOffice (headless)."""
    exe = libreoffice()
    if exe is None:
        raise InputError(
            "reading .doc files needs LibreOffice (libreoffice or soffice on PATH)",
            hint="install LibreOffice, or save the file as .docx, PDF or text",
            hint_zh="读取 .doc 文件需要安装 LibreOffice，或将文件另存为 .docx、PDF 或文本",
        )
    with tempfile.TemporaryDirectory(prefix="nianbao-doc-") as tmp:
        src = Path(tmp) / "input.doc"
        src.write_bytes(data)
        # A private profile: a user's running LibreOffice would otherwise lock the default one.
        profile = Path(tmp, "profile").as_uri()
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "docx", "--outdir", tmp, str(src)]
        try:
            subprocess.run(cmd, capture_output=True, timeout=_CONVERT_TIMEOUT_S, check=False,
                           env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired as exc:
            raise InputError("LibreOffice took too long to convert the .doc file",
                             hint_zh="LibreOffice 转换 .doc 文件超时") from exc
        out = Path(tmp) / "input.docx"
        if not out.exists():
            raise InputError("LibreOffice could not convert the .doc file", hint_zh="LibreOffice 无法转换该 .doc 文件")
        return out.read_bytes()
