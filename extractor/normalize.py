"""Normalize report text while keeping a map from every normalized character back to the original.

Readers work on one clean string (Simplified characters, unified ideographs for Kangxi radicals and other
compatibility forms, half-width digits and punctuation, no pinyin
annotations, no stray ``?``/``□``, no page footers, no Word comment debris); every span shown to a user
is mapped back through ``NormalizedText.span_to_original`` so it points into the text the user gave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from typing import Any

from extractor.cjk_compat import unified_map

# Deleted outright (whole match) before character mapping.
_DELETE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"<!--.*?-->", re.S),  # Word/HTML comment debris, incl. <!--[if gte mso 9]>…<![endif]-->
    re.compile(r"<!\[(?:if|endif)[^\]]*\]>", re.I),
    re.compile(r"</?o:p>", re.I),
    # pinyin annotations some converters insert after a character: 數(shù)據(jù)
    re.compile(r"(?<=[\u4e00-\u9fff])\((?:[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*)\)"),
    # page footers alone on their line: "— 3 —", "-4-", "- 12 -", "第 3 页 共 6 页"
    re.compile(r"(?m)^[ \t]*[-—–－_]{1,3}[ \t]*\d{1,3}[ \t]*[-—–－_]{1,3}[ \t]*$"),
    re.compile(r"(?m)^[ \t]*第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?[ \t]*$"),
)

# Characters dropped wherever they stand: stray question marks and boxes from lost glyphs, zero-width marks.
_DROP_CHARS = frozenset("?□\ufffd\u200b\u200c\u200d\u2060\ufeff\r")
_SPACE_CHARS = frozenset("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000")
# Typographic marks that are not in the full-width block but play the same role.
_EXTRA_MAP = {"\u2014": "-", "\u2013": "-", "\u2212": "-", "\u2026": ".", "\u00b7": "."}
# one character in, one character out: the offset map is then the list of kept positions
_TRANSLATE: dict[int, int | str] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_TRANSLATE.update({ord(c): " " for c in _SPACE_CHARS})
_TRANSLATE.update({ord(k): v for k, v in _EXTRA_MAP.items()})
# Kangxi radicals, CJK Radicals Supplement and compatibility ideographs → unified ideographs (PDFs printed
# from a browser print 「⼆、主动公开」 with U+2F06 for 二; headings and labels must still be found)
_TRANSLATE.update(unified_map())


@lru_cache(maxsize=1)
def _t2s() -> Any:  # an opencc.OpenCC (untyped library)
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified, guaranteed length-preserving so offsets stay valid."""
    if not text:
        return text
    converter = _t2s()
    out: list[str] = []
    for line in text.split("\n"):
        converted = converter.convert(line)
        if len(converted) != len(line):  # a phrase rule changed the length: convert char by char
            converted = "".join(c2 if len(c2 := converter.convert(c)) == 1 else c for c in line)
        out.append(converted)
    return "\n".join(out)


@dataclass(frozen=True)
class NormalizedText:
    original: str
    text: str
    # offsets[i] = index in ``original`` of normalized character i; one extra entry for the end.
    offsets: tuple[int, ...] = field(repr=False)

    def to_original(self, i: int) -> int:
        return self.offsets[min(max(i, 0), len(self.offsets) - 1)]

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalized text to the original text."""
        if end <= start:
            o = self.to_original(start)
            return o, o
        return self.offsets[start], self.offsets[end - 1] + 1

    def original_slice(self, start: int, end: int) -> str:
        s, e = self.span_to_original(start, end)
        return self.original[s:e]


_DROP_RE = re.compile("[" + re.escape("".join(sorted(_DROP_CHARS))) + "]")


def normalize(original: str) -> NormalizedText:
    n = len(original)
    keep = bytearray(b"\x01") * n
    for pattern in (*_DELETE_PATTERNS, _DROP_RE):
        for m in pattern.finditer(original):
            keep[m.start() : m.end()] = b"\x00" * (m.end() - m.start())
    if all(keep):
        offsets = list(range(n + 1))
        text_hw = original.translate(_TRANSLATE)
    else:
        kept = list(compress(range(n), keep))
        offsets = kept + [n]
        text_hw = "".join(compress(original, keep)).translate(_TRANSLATE)
    text = to_simplified(text_hw)
    return NormalizedText(original=original, text=text, offsets=tuple(offsets))
