"""Builders of hostile inputs: each writes one file (or link, or pipe) into a directory and returns its path.

Nothing here is stored in the repository: a 650 KB .docx that inflates to 200 MB is made in about a
second from a repeated paragraph. Every builder takes the directory and a file name, so a test can
put the same case in several folders (a batch input, a copy beside it).
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

MB = 1024 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_DOC_OPEN = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_DOC_CLOSE = "</w:body></w:document>"
_PARAGRAPH = "<w:p><w:r><w:t>本机关2023年度新收政府信息公开申请1件，予以公开1件。</w:t></w:r></w:p>"


def _docx_parts(zf: zipfile.ZipFile, body_bytes: int) -> None:
    zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
    zf.writestr("_rels/.rels", _ROOT_RELS)
    with zf.open("word/document.xml", "w", force_zip64=body_bytes > 1 << 31) as fh:
        fh.write(_DOC_OPEN.encode())
        block = (_PARAGRAPH * 2000).encode()
        written = 0
        while written < body_bytes:
            fh.write(block)
            written += len(block)
        fh.write(_DOC_CLOSE.encode())


def docx_xml_bomb(directory: Path, name: str = "xml_bomb.docx", inflated: int = 200 * MB) -> Path:
    """A .docx of well under 1 MB whose document.xml inflates to ``inflated`` bytes."""
    path = directory / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        _docx_parts(zf, inflated)
    return path


def docx_lying_size(directory: Path, name: str = "lying_size.docx", inflated: int = 64 * MB) -> Path:
    """A .docx whose document.xml says (in both ZIP headers) it holds 1 KB but inflates to ``inflated``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        _docx_parts(zf, inflated)
    data = bytearray(buf.getvalue())
    target = b"word/document.xml"
    pos = 0
    while (pos := data.find(target, pos)) != -1:
        # local header: name at +30, uncompressed size at +22; central directory: name at +46, size at +24
        if data[pos - 30:pos - 26] == b"PK\x03\x04":
            struct.pack_into("<I", data, pos - 30 + 22, 1024)
        elif data[pos - 46:pos - 42] == b"PK\x01\x02":
            struct.pack_into("<I", data, pos - 46 + 24, 1024)
        pos += len(target)
    path = directory / name
    path.write_bytes(bytes(data))
    return path


def docx_many_entries(directory: Path, name: str = "many_entries.docx", entries: int = 20000) -> Path:
    """A small, valid .docx with ``entries`` empty extra parts: the ZIP directory alone is the cost."""
    path = directory / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        _docx_parts(zf, 0)
        for i in range(entries):
            zf.writestr(f"x/{i}", b"")
    return path


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (object i is numbered i + 1; object 1 is the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"", flate: bool = True) -> bytes:
    body = zlib.compress(data, 9) if flate else data
    filt = b" /Filter /FlateDecode" if flate else b""
    return b"<< /Length %d%s %s >>\nstream\n" % (len(body), filt, extra) + body + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT_OPS = b"BT /F1 1 Tf 10 10 Td (0123456789) Tj ET\n"


def _repeat(unit: bytes, size: int) -> bytes:
    return unit * (size // len(unit) + 1)


def pdf_content_bomb(directory: Path, name: str = "content_bomb.pdf", inflated: int = 10 * MB) -> Path:
    """One page whose content stream (30 KB compressed) inflates to ``inflated`` bytes of text drawing."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(_repeat(_TEXT_OPS, inflated)),
        _FONT,
    ]
    path = directory / name
    path.write_bytes(_pdf(objects))
    return path


def pdf_form_bomb(directory: Path, name: str = "form_bomb.pdf", inflated: int = 10 * MB) -> Path:
    """A page that draws a form XObject whose stream inflates to ``inflated`` bytes."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /X0 6 0 R >> >> >>",
        _stream(b"q /X0 Do Q\n"),
        _FONT,
        _stream(_repeat(_TEXT_OPS, inflated),
                b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >>"),
    ]
    path = directory / name
    path.write_bytes(_pdf(objects))
    return path


def pdf_run_length_bomb(directory: Path, name: str = "run_length_bomb.pdf", inflated: int = 10 * MB) -> Path:
    """A content stream in RunLengthDecode: each 2 bytes repeat one byte 128 times."""
    run = b"\x81\x20" * (inflated // 128 + 1) + b"\x80"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /RunLengthDecode >>\nstream\n" % len(run) + run + b"\nendstream",
    ]
    path = directory / name
    path.write_bytes(_pdf(objects))
    return path


def pdf_many_pages(directory: Path, name: str = "many_pages.pdf", pages: int = 5000) -> Path:
    """``pages`` empty pages sharing one content stream: a few hundred KB."""
    kids = b" ".join(b"%d 0 R" % (i + 4) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        _stream(b"BT /F1 12 Tf 72 700 Td (page) Tj ET\n"),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"] * pages
    path = directory / name
    path.write_bytes(_pdf(objects))
    return path


def html_deep_nesting(directory: Path, name: str = "deep.html", depth: int = 100_000) -> Path:
    """A page of ``depth`` nested <div>s around one line of report text."""
    path = directory / name
    path.write_text("<html><body>" + "<div>" * depth + "政府信息公开工作年度报告" + "</div>" * depth + "</body></html>",
                    encoding="utf-8")
    return path


def html_huge_markup(directory: Path, name: str = "huge_markup.html", size: int = 12 * MB) -> Path:
    """A page of ``size`` bytes of tiny paragraphs: under the file limit, over the markup limit."""
    path = directory / name
    unit = "<p>本机关新收申请1件。</p>\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("<html><body>")
        fh.write(unit * (size // len(unit.encode()) + 1))
        fh.write("</body></html>")
    return path


def text_too_many_chars(directory: Path, name: str = "too_long.txt", chars: int = 3_000_000) -> Path:
    """Plain text of ``chars`` characters (9 MB of UTF-8): more text than any report has."""
    path = directory / name
    line = "本机关2023年度新收政府信息公开申请1件，予以公开1件。\n"
    path.write_text(line * (chars // len(line) + 1), encoding="utf-8")
    return path


def fifo(directory: Path, name: str = "pipe.txt") -> Path:
    """A named pipe with no writer: opening it for reading in the ordinary way waits forever."""
    path = directory / name
    os.mkfifo(path)
    return path


def dev_zero_link(directory: Path, name: str = "zero.txt") -> Path:
    """A link to /dev/zero: a file that never ends."""
    path = directory / name
    path.symlink_to("/dev/zero")
    return path


def symlink_loop(directory: Path, name: str = "loop.txt") -> Path:
    """Two links that point at each other."""
    path = directory / name
    other = directory / f".{name}.other"
    path.symlink_to(other.name)
    other.symlink_to(path.name)
    return path


def binary_junk(directory: Path, name: str = "junk.txt", seed: int = 7) -> Path:
    """Random bytes (always the same ones) under a text name."""
    import random

    path = directory / name
    path.write_bytes(random.Random(seed).randbytes(4096) + b"\x00" * 16)
    return path


def deeply_nested_json(directory: Path, name: str = "deep.json", depth: int = 100_000) -> Path:
    """A JSON object nested ``depth`` levels: json.loads raises RecursionError on it."""
    path = directory / name
    path.write_text('{"applications": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    return path


def report_json(directory: Path, name: str, data: dict[str, object]) -> Path:
    path = directory / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def pdf_font_without_bbox(directory: Path, name: str = "no_bbox.pdf") -> Path:
    """A readable one-page PDF whose TrueType font descriptor lacks /FontBBox: pdfminer logs a
    warning for it, as for the fonts of many PDFs printed from a browser."""
    text = b"BT /F1 12 Tf 72 760 Td (Government information disclosure annual report 2023) Tj ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(text),
        b"<< /Type /Font /Subtype /TrueType /BaseFont /NoBBox /FirstChar 32 /LastChar 126 "
        b"/Widths [" + b" ".join([b"500"] * 95) + b"] /FontDescriptor 6 0 R >>",
        b"<< /Type /FontDescriptor /FontName /NoBBox /Flags 32 /ItalicAngle 0 /Ascent 800 /Descent -200 "
        b"/CapHeight 700 /StemV 80 >>",
    ]
    path = directory / name
    path.write_bytes(_pdf(objects))
    return path
