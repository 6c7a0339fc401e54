"""What the template reader knows about one cell: the value printed there and where it stands."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from extractor.reader.tokens import Token

MatchKind = Literal["exact", "split", "blank", "ambiguous", "uncertain"]


@dataclass
class LocatedCell:
    path: str
    value: int | str | None  # None: the source prints nothing in this cell
    start: int | None  # span in the normalized text
    end: int | None
    raw: str = ""
    match: MatchKind = "exact"
    candidates: list[int | str] = field(default_factory=list)  # other values an ambiguous split allows
    note: str | None = None


_SIGNED_RE = re.compile(r"^(减|增|[+-])?\s*(\d+(?:\.\d+)?)\s*(万元|元)?$")


def parse_number(raw: str) -> tuple[int | str | None, str | None, str | None]:
    """Parse a printed cell value → (value, unit, problem). Decimals stay strings (exact)."""
    m = _SIGNED_RE.match(raw.strip())
    if not m:
        return None, None, f"「{raw}」 is not a number"
    sign, number, unit = m.groups()
    negative = sign in {"减", "-"}
    if "." in number:
        value: int | str = ("-" if negative else "") + number
    else:
        value = -int(number) if negative else int(number)
    return value, unit, None


def digit_positions(tokens: list[Token], text: str) -> list[int]:
    """Offsets of every digit of the tokens, in order (for spans of the parts of a glued run)."""
    out: list[int] = []
    for t in tokens:
        for i in range(t.start, t.end):
            if text[i].isdigit():
                out.append(i)
    return out


def split_spans(tokens: list[Token], text: str, parts: list[str]) -> list[tuple[int, int]]:
    pos = digit_positions(tokens, text)
    spans: list[tuple[int, int]] = []
    k = 0
    for p in parts:
        n = len(p.replace(".", "").replace("-", ""))
        if n == 0 or k + n > len(pos):
            spans.append((pos[-1] if pos else 0, (pos[-1] + 1) if pos else 0))
            continue
        spans.append((pos[k], pos[k + n - 1] + 1))
        k += n
    return spans
