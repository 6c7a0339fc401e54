"""Read a Word file's ZIP within bounds: how many entries, and how much XML they inflate to.

python-docx reads every part of the package whole (``ZipFile.read``), and zipfile inflates a member
in one call whatever size the member declares, so neither a declared size nor the file size bounds
memory. Here the XML parts are inflated 64 KB at a time against the limit, and python-docx is given
a copy of the package whose XML parts are stored uncompressed and whose other parts (images, fonts,
embedded objects: nothing the text comes from) are empty, so it never inflates anything itself.
"""

from __future__ import annotations

import io
import struct
import zipfile

from extractor.errors import InputError
from extractor.ingest.limits import ENV_VARS, InputLimits, expansion_error, megabytes

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_CHUNK = 1 << 16
# A central-directory entry is 46 bytes plus its name (and extras); real names are short.
_MAX_ENTRY_BYTES = 512
_XML_SUFFIXES = (".xml", ".rels")


def damaged_zip() -> InputError:
    return InputError("the file is a damaged ZIP/Office archive", hint_zh="文件已损坏（ZIP/Office 压缩包无法打开）")


def _too_many_members(count: int, limits: InputLimits) -> InputError:
    env = ENV_VARS["max_archive_members"]
    return InputError(
        f"the archive declares {count:,} entries, over the limit of {limits.max_archive_members:,} "
        f"(raise {env} if the file is genuine)",
        hint_zh=f"压缩包内文件数过多（{count:,} 个，上限 {limits.max_archive_members:,}），疑似恶意文件",
    )


def _directory_bounds(data: bytes) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end record, read before zipfile parses anything;
    None when there is no end record (zipfile then says the file is damaged)."""
    pos = data.rfind(_EOCD, max(0, len(data) - (65535 + 22)))
    if pos < 0 or pos + 22 > len(data):
        return None
    entries, cd_size = struct.unpack("<HI", data[pos + 10:pos + 16])
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the real numbers are in the ZIP64 end record
        loc = pos - 20
        if loc >= 0 and data[loc:loc + 4] == _EOCD64_LOCATOR:
            (offset,) = struct.unpack("<Q", data[loc + 8:loc + 16])
            if data[offset:offset + 4] == _EOCD64 and offset + 48 <= len(data):
                entries, cd_size = struct.unpack("<QQ", data[offset + 32:offset + 48])
    return entries, cd_size


def check_zip_directory(data: bytes, limits: InputLimits) -> None:
    """Refuse an archive whose directory alone would cost memory to parse (zipfile builds an object
    per entry, and reads the directory by its byte size, whatever count the end record gives)."""
    bounds = _directory_bounds(data)
    if bounds is None:
        return
    entries, cd_size = bounds
    if entries > limits.max_archive_members:
        raise _too_many_members(entries, limits)
    if cd_size > limits.max_archive_members * _MAX_ENTRY_BYTES:
        raise _too_many_members(max(entries, cd_size // _MAX_ENTRY_BYTES), limits)


def _is_xml(name: str) -> bool:
    return name.lower().endswith(_XML_SUFFIXES)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, room: int) -> bytes:
    """The member's bytes, 64 KB at a time; stops as soon as they pass ``room``."""
    out = bytearray()
    with zf.open(info) as fh:
        while True:
            piece = fh.read(_CHUNK)
            if not piece:
                return bytes(out)
            out += piece
            if len(out) > room:
                raise OverflowError


def bounded_package(data: bytes, limits: InputLimits) -> bytes:
    """A copy of the .docx that python-docx can open without inflating anything: XML parts stored
    as read (within ``max_docx_xml_bytes`` together), every other part empty."""
    check_zip_directory(data, limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_archive_members:
                raise _too_many_members(len(infos), limits)
            out = io.BytesIO()
            total = 0
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
                for info in infos:
                    if info.is_dir():
                        continue
                    body = b""
                    if _is_xml(info.filename):
                        try:
                            body = _inflate(zf, info, limits.max_docx_xml_bytes - total)
                        except OverflowError:
                            raise expansion_error("the Word file's XML", None, megabytes(limits.max_docx_xml_bytes),
                                                  "max_docx_xml_bytes") from None
                        total += len(body)
                    copy.writestr(info.filename, body)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError, RuntimeError,
            OSError) as exc:
        # CRC mismatch, an unsupported compression method, an encrypted or truncated member…
        raise InputError(f"the Word file's archive is damaged ({type(exc).__name__})",
                         hint_zh="Word 文件已损坏（压缩包无法解开）") from exc
    return out.getvalue()
