"""A slip in one row's own sum, read as another cut: doubt a row its column totals do not confirm.

A glued row is decided by its own equation (R3.3: 总计 is the sum of the six before it): among the cuts of
``0604706004711`` the one that keeps it (0/60/47/0/600/4/711) is admitted, the one the agency meant
(0/6/0/4706/0/0/4711, its 总计 off by one) is not. When the agency did slip there, a wrong cut is then
decided on the row's word alone, and only the column totals can tell: the row the column equations sum
into (（七）总计) no longer fits what it prints.

So where a target row's printed characters do not fit the sums of the rows above it (``deviations`` ≥ 1:
the column equations break however it is cut), every decided part row is asked whether a reading one
assumption dearer (its own equation broken) explains the table as well: its own slip plus the column
equations that still break, no more than the column equations the present readings break. Such a row is
not decided by the text: it keeps both readings, and the cells they disagree on are undecided.

This only ever adds readings (more undecided cells, never a wrongly proven one). It weighs one row's slip
at a time, over equations of the form 「one target cell = the sum of part cells in other rows」 (R3.2).
"""

from __future__ import annotations

from collections.abc import Sequence

from extractor.equations import Equation
from extractor.readings.rows import (
    Reading,
    RowReadings,
    cell_index,
    cell_values,
    deviations,
    fixed_value,
    near_readings,
    own_equations,
    settled,
    with_readings,
)


def _groups(equations: Sequence[Equation], where: dict[str, tuple[str, int]]) -> dict[str, dict[str, int]]:
    """Per target row: each part cell -> the target cell index it sums into."""
    out: dict[str, dict[str, int]] = {}
    for eq in equations:
        if len(eq.lhs) != 1 or eq.lhs[0] not in where:
            continue
        target_row, target_idx = where[eq.lhs[0]]
        parts = {p: target_idx for p in eq.rhs}
        if any(p not in where or where[p][0] == target_row for p in parts):
            continue
        out.setdefault(target_row, {}).update(parts)
    return out


def _sums(rows: dict[str, RowReadings], parts: dict[str, int], where: dict[str, tuple[str, int]],
          width: int) -> list[int | None] | None:
    sums: list[int | None] = [None] * width
    for path, idx in parts.items():
        key, i = where[path]
        v = settled(rows[key], i)
        if v is None:
            return None
        sums[idx] = (sums[idx] or 0) + v
    return sums


def doubt_slips(rows: dict[str, RowReadings], equations: Sequence[Equation],
                row_equations: Sequence[Equation]) -> list[str]:
    """Widen ``rows`` (in place) where a slip in a part row's own sum explains the column totals as well as
    its decided reading does; returns a note per row widened."""
    where = cell_index(rows)
    notes: list[str] = []
    for target_key, parts in _groups(equations, where).items():
        target = rows[target_key]
        if target.uncertain:
            continue
        width = len(target.place.paths)
        sums = _sums(rows, parts, where, width)
        if sums is None:
            continue
        now = deviations(target.place, sums)
        if not now:  # it fits (0), or the row prints no cut at all (None): nothing to weigh
            continue
        can = cell_values(target.place)
        seen: dict[tuple[int | None, ...], int | None] = {}

        def as_good(moved: list[int | None]) -> bool:
            """Whether a slip (1) plus the column equations still broken with ``moved`` is no dearer than now."""
            if 1 + sum(1 for v, s in zip(moved, can) if v is not None and v not in s) > now:
                return False  # a bound: those cells deviate whatever the cut
            k = tuple(moved)
            if k not in seen:
                seen[k] = deviations(target.place, moved)
            then = seen[k]
            return then is not None and 1 + then <= now

        for key in sorted({where[p][0] for p in parts}):
            rr = rows[key]
            if not rr.decided or not rr.readings or not any(o.run for o in rr.readings[0]):
                continue  # a row printed cell by cell is not a cut of glued digits
            near = near_readings(rr.place, own_equations(rr.place.paths, row_equations), slack=1)
            if not near:
                continue
            current = rr.readings[0]
            better: list[Reading] = []
            for reading, cost in near:
                if cost != rr.cost + 1:
                    continue
                moved = list(sums)
                for i, path in enumerate(rr.place.paths):
                    idx = parts.get(path)
                    if idx is None:
                        continue
                    new, old = fixed_value(reading[i]), fixed_value(current[i])
                    if new is None or old is None:
                        break
                    moved[idx] = (moved[idx] or 0) + new - old
                else:
                    if as_good(moved):
                        better.append(reading)
            if better:
                rows[key] = with_readings(rr, [*(rr.readings or []), *better],
                                          "the column totals do not hold with this row's reading, and a slip in "
                                          "its own 总计 explains them as well: the cut is not decided")
                notes.append(f"{key}: a slip in its own sum explains the column totals as well as its reading")
    return notes


__all__ = ["doubt_slips"]
