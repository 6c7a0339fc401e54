"""Grounding: trace every number of any report to the place in the source where its cell is printed.

The template reader's source map says what the source prints at each cell's place. A value that
equals it is ``grounded``; another value is a ``mismatch``; a value where the source shows nothing, or
whose place cannot be found at all, is ``unsupported``. A blank value is ``blank``. Spans point into
the text the user gave (through the normalizer's offset map).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from extractor.findings import Evidence
from extractor.normalize import NormalizedText
from extractor.reader.cells import LocatedCell
from extractor.reader.template_reader import SourceMap
from extractor.schema import CellValue, Report, iter_cells


def _same(a: CellValue, b: CellValue) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except InvalidOperation:
            return str(a).strip() == str(b).strip()
    return a == b


def _row_key(path: str) -> str:
    if path.startswith("applications."):
        return path.split("[")[0]
    return path.rsplit(".", 1)[0]


def _in_row(smap: SourceMap, path: str, value: CellValue) -> tuple[int, int] | None:
    for v, start, end in smap.row_tokens.get(_row_key(path), []):
        if _same(value, v):
            return start, end
    return None


def _span(norm: NormalizedText, cell: LocatedCell) -> tuple[int | None, int | None, str | None]:
    if cell.start is None or cell.end is None:
        return None, None, None
    s, e = norm.span_to_original(cell.start, cell.end)
    return s, e, norm.original[s:e]


def ground(report: Report, norm: NormalizedText | None, smap: SourceMap | None,
           producers: dict[str, str] | None = None) -> dict[str, Evidence]:
    producers = producers or {}
    evidence: dict[str, Evidence] = {}
    for path, value in iter_cells(report):
        reader = producers.get(path)
        cell = smap.cells.get(path) if smap is not None else None
        # A row the reader read but whose column it cannot place: the row printing the value is some
        # evidence. Not for a glued run that splits several ways: there a row "prints" every digit string.
        if value is not None and norm is not None and smap is not None and (cell is None or cell.match == "uncertain"):
            in_row = _in_row(smap, path, value)
            if in_row is not None and (cell is None or not _same(value, cell.value)):
                s, e = norm.span_to_original(in_row[0], in_row[1])
                evidence[path] = Evidence(status="grounded", start=s, end=e, text=norm.original[s:e], reader=reader,
                                          match="in_row", note="printed in this row; its column is not proven")
                continue
        if cell is None or norm is None:
            evidence[path] = Evidence(status="blank" if value is None else "unsupported", reader=reader,
                                      note=None if value is None else "the source has no cell at this place")
            continue
        start, end, text = _span(norm, cell)
        source_value = cell.value
        if value is None:
            if source_value is None:
                evidence[path] = Evidence(status="blank", start=start, end=end, text=text, reader=reader)
            else:
                evidence[path] = Evidence(status="mismatch", start=start, end=end, text=text, reader=reader,
                                          source_value=str(source_value), note="the source prints a value here")
            continue
        if source_value is None:
            if cell.match == "blank" and _same(value, 0):
                evidence[path] = Evidence(status="grounded", start=start, end=end, text=text, reader=reader,
                                          match="blank_as_zero", note="blank in the source; blank and 0 count alike")
            else:
                evidence[path] = Evidence(status="unsupported", start=start, end=end, text=text, reader=reader,
                                          note="the source prints nothing readable in this cell")
            continue
        if cell.match == "uncertain":
            evidence[path] = Evidence(status="unsupported", start=start, end=end, text=text, reader=reader,
                                      source_value=str(source_value), note="the cell's position in its row is uncertain")
            continue
        if cell.match == "ambiguous" and (_same(value, source_value) or any(_same(value, c) for c in cell.candidates)):
            # The run splits more than one way: whichever split a reader picks, the text does not prove it.
            evidence[path] = Evidence(status="unsupported", start=start, end=end, text=text, reader=reader,
                                      match="split", source_value=str(source_value),
                                      note="one of the possible splits of a glued run; the text does not decide")
            continue
        if _same(value, source_value):
            kind = "split" if cell.match == "split" else "exact"
            evidence[path] = Evidence(status="grounded", start=start, end=end, text=text, reader=reader, match=kind,
                                      note=cell.note)
        else:
            evidence[path] = Evidence(status="mismatch", start=start, end=end, text=text, reader=reader,
                                      source_value=str(source_value))
    return evidence
