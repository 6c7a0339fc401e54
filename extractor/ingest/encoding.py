"""Bytes → str for Chinese reports: UTF-8, GB18030 (covers GBK/GB2312), Big5, UTF-16/32 with a BOM.

GB18030 and Big5 share most of their byte ranges, so a strict decode often succeeds with both. The
choice between them is made by how many decoded characters are everyday characters of each charset
(GB2312 level 1 for Simplified, the Big5 常用字 block for Traditional); charset-normalizer only breaks a
tie. A GB18030 file whose text is ordinary Chinese is never read as anything else.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from extractor.errors import InputError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Punctuation both charsets print; it says nothing about which one the file is in.
_SHARED_PUNCT = frozenset("，。、；：？！“”‘’（）《》〈〉【】…—·「」『』　")
# A decode is taken as a clear GB18030 reading above this share of everyday characters.
_GB_CONFIDENT = 0.85
# Share of control characters (other than tab/newline/CR/form feed) above which the text is binary junk.
_MAX_CONTROL_SHARE = 0.01
_DECLARABLE = frozenset({"utf-8", "gb18030", "big5", "utf-16", "utf-16-le", "utf-16-be"})
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def binary_error() -> InputError:
    return InputError("the input is binary, not text", hint="give a .txt, .html, .pdf or .docx file",
                      hint_zh="文件不是文本（二进制内容），请提供 txt、html、pdf 或 docx 文件")


def canonical_name(label: str) -> str | None:
    """A Python codec name for a declared charset (HTML meta), widening GB2312/GBK to GB18030."""
    try:
        name = codecs.lookup(label.strip().strip("'\"")).name
    except LookupError:
        return None
    if name in ("gb2312", "gbk", "gb18030", "hz"):
        return "gb18030"
    if name in ("big5", "big5hkscs", "cp950"):
        return "big5"
    return name


@lru_cache(maxsize=4096)
def _is_everyday(ch: str, codec: str) -> bool:
    if ch in _SHARED_PUNCT:
        return True
    try:
        raw = ch.encode(codec)
    except UnicodeEncodeError:
        return False
    if len(raw) != 2:
        return False
    lead = raw[0]
    if codec == "gb2312":
        return 0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xD7  # symbols, full-width forms, level-1 hanzi
    return 0xA1 <= lead <= 0xA3 or 0xA4 <= lead <= 0xC5  # big5: symbols, 常用字 (A440–C67E)


def everyday_share(text: str, codec: str) -> float:
    """Share of non-ASCII characters that are everyday characters of ``codec`` ("gb2312" or "big5")."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    return sum(_is_everyday(c, codec) for c in wide) / len(wide)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _plausible(text: str) -> bool:
    """Mostly ASCII and Chinese: what a report is, and what random bytes decoded as UTF-16 are not."""
    sample = text[:65536]
    good = sum(
        1 for c in sample
        if " " <= c <= "~" or c in "\t\r\n" or "\u4e00" <= c <= "\u9fff" or "\u2000" <= c <= "\u206f"
        or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
    )
    return bool(sample) and good / len(sample) >= 0.9


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: most zero bytes (the high bytes of ASCII) fall on one parity."""
    sample = data[:8192]
    if len(sample) < 8 or len(data) % 2:
        return None
    even_zero, odd_zero = sample[0::2].count(0), sample[1::2].count(0)
    for codec, here, there in (("utf-16-le", odd_zero, even_zero), ("utf-16-be", even_zero, odd_zero)):
        if here >= 4 and here > 2 * there:  # 「一」 (U+4E00) puts some zeros on the other side
            text = _strict(data, codec)
            if text is not None and _plausible(text):
                return text
    return None


def _tie_break(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536], cp_isolation=["gb18030", "big5"]).best()
    return "big5" if best is not None and best.encoding in ("big5", "cp950", "big5hkscs") else "gb18030"


def _choose_cjk(data: bytes) -> tuple[str, str] | None:
    gb = _strict(data, "gb18030")
    b5 = _strict(data, "big5")
    if gb is None and b5 is None:
        return None
    if b5 is None:
        return None if gb is None else (gb, "gb18030")
    if gb is None:
        return b5, "big5"
    gb_share = everyday_share(gb, "gb2312")
    if gb_share >= _GB_CONFIDENT:
        return gb, "gb18030"
    b5_share = everyday_share(b5, "big5")
    if b5_share > gb_share + 0.05:
        return b5, "big5"
    if abs(b5_share - gb_share) <= 0.05 and _tie_break(data) == "big5":
        return b5, "big5"
    return gb, "gb18030"


def _check_not_junk(text: str) -> None:
    sample = text[:65536]
    if sample and len(_CONTROL_RE.findall(sample)) / len(sample) > _MAX_CONTROL_SHARE:
        raise binary_error()


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name). Order: byte-order mark, strict UTF-8, the charset the file
    declares itself (``declared``, from an HTML <meta>), then GB18030 vs Big5 (see _choose_cjk)."""
    text: str | None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data, codec)
            if text is None:
                raise InputError(f"the text starts with a {codec} byte-order mark but does not decode as {codec}",
                                 hint_zh=f"文件声明为 {codec} 编码，但内容无法按该编码解码")
            _check_not_junk(text)
            return text.lstrip("\ufeff"), codec.replace("-sig", "")
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        _check_not_junk(utf16)
        return utf16, "utf-16"
    if b"\x00" in data[:8192]:
        raise binary_error()
    # Valid UTF-8 with Chinese in it is never an accident, whatever a page's <meta> claims.
    text = _strict(data, "utf-8")
    if text is not None:
        _check_not_junk(text)
        return text, "utf-8"
    if declared:
        claimed = canonical_name(declared)
        # Only charsets that can hold Chinese: a page claiming latin-1 over GBK bytes is common and wrong.
        if claimed is not None and claimed in _DECLARABLE:
            text = _strict(data, claimed)
            if text is not None:
                _check_not_junk(text)
                return text, claimed
    chosen = _choose_cjk(data)
    if chosen is None:
        raise InputError(
            "the text cannot be decoded as UTF-8, GB18030 or Big5",
            hint="save it as UTF-8 and try again",
            hint_zh="无法识别文件编码（UTF-8、GB18030、Big5 均无法解码），请另存为 UTF-8 后重试",
        )
    _check_not_junk(chosen[0])
    return chosen
