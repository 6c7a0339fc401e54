"""Decode a user's bytes to text, with a clear error for input that is not text at all."""

from __future__ import annotations

import sys
from pathlib import Path

from extractor.errors import InputError
from extractor.ingest.document import SourceDocument

MAX_BYTES = 64 * 1024 * 1024

_ENCODINGS = ("utf-8-sig", "gb18030", "big5")


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 first; GB18030 covers GBK/GB2312; Big5 last."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("the input is binary, not text", hint_zh="文件不是文本（二进制内容）")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for enc in _ENCODINGS:
        try:
            return data.decode(enc), enc.replace("-sig", "")
        except UnicodeDecodeError:
            continue
    raise InputError(
        "the text cannot be decoded as UTF-8, GB18030 or Big5",
        hint="save it as UTF-8 and try again", hint_zh="无法识别文件编码（UTF-8/GB18030/Big5 均失败）",
    )


def load_text(text: str, name: str | None = None) -> SourceDocument:
    if not text.strip():
        raise InputError("the input is empty", hint_zh="输入为空")
    return SourceDocument(text=text, format="text", encoding=None, name=name)


def load_bytes(data: bytes, name: str | None = None) -> SourceDocument:
    if len(data) > MAX_BYTES:
        raise InputError(f"the input is {len(data) // (1024 * 1024)} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB",
                         hint_zh="文件过大")
    if not data.strip():
        raise InputError("the input is empty", hint_zh="输入为空")
    text, encoding = decode_text(data)
    doc = load_text(text, name)
    doc.encoding = encoding
    return doc


def load_path(path: str | Path) -> SourceDocument:
    """Read a file (or ``-`` for standard input)."""
    if str(path) == "-":
        return load_bytes(sys.stdin.buffer.read(), "<stdin>")
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}", hint_zh="文件不存在")
    if p.is_dir():
        raise InputError(f"{p} is a directory, not a file", hint_zh="这是一个目录")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{p} is {size // (1024 * 1024)} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB",
                         hint_zh="文件过大")
    return load_bytes(p.read_bytes(), p.name)
