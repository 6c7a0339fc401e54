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
from extractor.ingest.limits import InputLimits, check_chars, current_limits, expansion_error, megabytes
from extractor.ingest.regular_file import read_regular, too_large
from extractor.ingest.zip_expansion import check_zip_directory, damaged_zip

# The default file-size limit (NIANBAO_MAX_INPUT_MB changes it; see limits.py for every limit).
MAX_BYTES = InputLimits().max_bytes

Format = Literal["text", "html", "pdf", "docx", "doc"]

_HTML_EXT = frozenset({".html", ".htm", ".xhtml", ".shtml"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC: tuple[bytes, ...] = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding) for plain-text bytes; kept for callers of the first interface."""
    return decode_bytes(data)


def _empty() -> InputError:
    return InputError("the input is empty", hint_zh="输入为空")


def sniff_format(data: bytes, name: str | None = None) -> Format:
    """The format of ``data``: magic bytes decide; the extension only separates HTML from text."""
    ext = Path(name).suffix.lower() if name else ""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        check_zip_directory(data, current_limits())
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
            raise damaged_zip() from exc
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
    limits = current_limits()
    text = text.lstrip("\ufeff")
    if looks_like_html(text):
        _check_markup(len(text), limits)
        return _nonempty(SourceDocument(text=check_chars(html_to_text(text), limits), format="html", name=name))
    return SourceDocument(text=check_chars(text, limits), format="text", encoding=None, name=name)


def _check_markup(size: int, limits: InputLimits) -> None:
    # An HTML tree costs about 50 bytes of memory per byte of markup; real pages are well under 2 MB.
    if size > limits.max_html_bytes:
        raise expansion_error("the HTML page", megabytes(size), megabytes(limits.max_html_bytes), "max_html_bytes")


def _nonempty(doc: SourceDocument) -> SourceDocument:
    if not doc.text.strip():
        raise InputError(f"the {doc.format.upper()} file contains no text", hint_zh="文件中没有可读取的文字")
    return doc


def _load_html_bytes(data: bytes, name: str | None) -> SourceDocument:
    from extractor.ingest.html import declared_charset, html_to_text

    limits = current_limits()
    _check_markup(len(data), limits)
    text, encoding = decode_bytes(data, declared=declared_charset(data))
    return _nonempty(SourceDocument(text=check_chars(html_to_text(text), limits), format="html", encoding=encoding,
                                    name=name))


def _load_docx_bytes(data: bytes, name: str | None, fmt: Format) -> SourceDocument:
    from extractor.ingest.docx import docx_to_text

    return _nonempty(SourceDocument(text=docx_to_text(data), format=fmt, name=name))


def load_bytes(data: bytes, name: str | None = None) -> SourceDocument:
    """Read a user's file from its bytes; ``name`` (a file name) helps tell HTML from text."""
    max_bytes = current_limits().max_bytes
    if len(data) > max_bytes:
        raise too_large(len(data), "the input", max_bytes)
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
    """Read a regular file (or ``-`` for standard input, up to the size limit)."""
    max_bytes = current_limits().max_bytes
    if str(path) == "-":
        return load_bytes(sys.stdin.buffer.read(max_bytes + 1), "<stdin>")
    p = Path(path)
    return load_bytes(read_regular(p, max_bytes), p.name)


__all__ = ["MAX_BYTES", "Format", "decode_text", "load_bytes", "load_path", "load_text", "sniff_format"]
