"""Bytes in, SourceDocument out: sniff the format (content first, extension second), then decode or
render it. Every failure is an InputError with a message a user can act on."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Literal

from extractor.errors import InputError
from extractor.ingest.document import SourceDocument
from extractor.ingest.encoding import decode_bytes

MAX_BYTES = 64 * 1024 * 1024

Format = Literal["text", "html", "pdf", "docx", "doc"]

_HTML_EXT = frozenset({".html", ".htm", ".xhtml", ".shtml"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC: tuple[bytes, ...] = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding) for plain-text bytes; kept for callers of the first interface."""
    return decode_bytes(data)


def _too_large(size: int, what: str) -> InputError:
    return InputError(f"{what} is {size // (1024 * 1024)} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB",
                      hint_zh=f"文件过大（上限 {MAX_BYTES // (1024 * 1024)} MB）")


def _empty() -> InputError:
    return InputError("the input is empty", hint_zh="输入为空")


def sniff_format(data: bytes, name: str | None = None) -> Format:
    """The format of ``data``: magic bytes decide; the extension only separates HTML from text."""
    ext = Path(name).suffix.lower() if name else ""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except zipfile.BadZipFile as exc:
            raise InputError("the file is a damaged ZIP/Office archive", hint_zh="文件已损坏（ZIP/Office 压缩包无法打开）") from exc
        raise InputError("the file is a ZIP archive but not a Word document (.docx)",
                         hint="give the report as .docx, .pdf, .html or text",
                         hint_zh="文件是压缩包但不是 Word（.docx）文档，请提供 docx、pdf、html 或文本")
    if data.startswith(_OLE_MAGIC):
        return "doc"
    if data.startswith(_IMAGE_MAGIC):
        raise InputError("the file is an image; text must be recognised (OCR) first",
                         hint_zh="文件是图片，请先进行文字识别（OCR）")
    if ext in _HTML_EXT:
        return "html"
    return "text"


def load_text(text: str, name: str | None = None) -> SourceDocument:
    """Text a user pasted. Pasted HTML source is rendered like an .html file."""
    from extractor.ingest.html import html_to_text, looks_like_html

    if not text.strip():
        raise _empty()
    text = text.lstrip("\ufeff")
    if looks_like_html(text):
        return _nonempty(SourceDocument(text=html_to_text(text), format="html", name=name))
    return SourceDocument(text=text, format="text", encoding=None, name=name)


def _nonempty(doc: SourceDocument) -> SourceDocument:
    if not doc.text.strip():
        raise InputError(f"the {doc.format.upper()} file contains no text", hint_zh="文件中没有可读取的文字")
    return doc


def _load_html_bytes(data: bytes, name: str | None) -> SourceDocument:
    from extractor.ingest.html import declared_charset, html_to_text

    text, encoding = decode_bytes(data, declared=declared_charset(data))
    return _nonempty(SourceDocument(text=html_to_text(text), format="html", encoding=encoding, name=name))


def _load_docx_bytes(data: bytes, name: str | None, fmt: Format) -> SourceDocument:
    from extractor.ingest.docx import docx_to_text

    return _nonempty(SourceDocument(text=docx_to_text(data), format=fmt, name=name))


def load_bytes(data: bytes, name: str | None = None) -> SourceDocument:
    """Read a user's file from its bytes; ``name`` (a file name) helps tell HTML from text."""
    if len(data) > MAX_BYTES:
        raise _too_large(len(data), "the input")
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise _empty()
    fmt = sniff_format(data, name)
    if fmt == "pdf":
        from extractor.ingest.pdf import pdf_to_text

        text, warnings = pdf_to_text(data)
        return _nonempty(SourceDocument(text=text, format="pdf", name=name, warnings=warnings))
    if fmt == "docx":
        return _load_docx_bytes(data, name, "docx")
    if fmt == "doc":
        from extractor.ingest.docx import doc_to_docx

        return _load_docx_bytes(doc_to_docx(data), name, "doc")
    if fmt == "html":
        return _load_html_bytes(data, name)
    text, encoding = decode_bytes(data)
    from extractor.ingest.html import looks_like_html

    if looks_like_html(text):
        return _load_html_bytes(data, name)
    doc = load_text(text, name)
    doc.encoding = encoding
    return doc


def load_path(path: str | Path) -> SourceDocument:
    """Read a file (or ``-`` for standard input)."""
    if str(path) == "-":
        return load_bytes(sys.stdin.buffer.read(MAX_BYTES + 1), "<stdin>")
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}", hint_zh="文件不存在")
    if p.is_dir():
        raise InputError(f"{p} is a directory, not a file", hint_zh="这是一个目录")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise _too_large(size, str(p))
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p} cannot be read: {exc.strerror}", hint_zh="文件无法读取（权限或磁盘错误）") from exc
    return load_bytes(data, p.name)


__all__ = ["MAX_BYTES", "Format", "decode_text", "load_bytes", "load_path", "load_text", "sniff_format"]
