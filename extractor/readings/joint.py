"""The table's equations across rows (R3.1 勾稽关系, R3.2 column totals) narrow the rows' readings.

Each row admits a few readings on its own (``extractor.readings.rows``); a column equation can rule some
out. The table admits the combinations that break the fewest equations. An equation no combination can
satisfy (the report's own error, e.g. a 总计 row printed as zeros) is broken by every combination and
decides nothing; the others must then all hold, and where no combination satisfies them together the
rows keep every reading (more undecided cells, never a wrongly proven one).

A dynamic programme over the undecided rows, whose state is the vector of the equations' running
residuals, finds the combinations without listing them; it gives up (keeps every reading) past
``MAX_STATES`` states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from extractor.equations import Equation
from extractor.readings.rows import CellOption, Reading, RowReadings, fixed_value

MAX_STATES = 50_000


@dataclass
class JointResult:
    rows: dict[str, RowReadings]
    witness: dict[str, Reading] = field(default_factory=dict)  # one combination that satisfies every equation kept
    unsatisfiable: list[Equation] = field(default_factory=list)  # broken by every combination
    notes: list[str] = field(default_factory=list)


def _cell_index(rows: dict[str, RowReadings]) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for key, rr in rows.items():
        for i, path in enumerate(rr.place.paths):
            out[path] = (key, i)
    return out


@dataclass
class _Eq:
    equation: Equation
    constant: int
    terms: dict[str, list[tuple[int, int]]]  # variable row -> [(cell index, coefficient)]


def _prepare(eq: Equation, rows: dict[str, RowReadings], where: dict[str, tuple[str, int]]) -> _Eq | None:
    """The equation over the rows' readings, or None when a cell has no countable reading."""
    constant = 0
    terms: dict[str, list[tuple[int, int]]] = {}
    for coef, paths in ((1, eq.lhs), (-1, eq.rhs)):
        for path in paths:
            hit = where.get(path)
            if hit is None:
                return None
            key, idx = hit
            rr = rows[key]
            if rr.empty or rr.readings is None or rr.exhausted:
                return None
            if rr.decided:  # one value wherever the row stands
                value = fixed_value(rr.options[idx][0])
                if value is None:
                    return None
                constant += coef * value
                continue
            if rr.uncertain:
                return None
            if any(fixed_value(r[idx]) is None for r in rr.readings):
                return None
            terms.setdefault(key, []).append((idx, coef))
    return _Eq(eq, constant, terms)


def _contribution(reading: Reading, terms: list[tuple[int, int]]) -> int:
    return sum(coef * (fixed_value(reading[idx]) or 0) for idx, coef in terms)


def _satisfiable(eq: _Eq, rows: dict[str, RowReadings]) -> bool | None:
    sums = {eq.constant}
    for key, terms in eq.terms.items():
        readings = rows[key].readings or []
        contributions = {_contribution(r, terms) for r in readings}
        sums = {s + c for s in sums for c in contributions}
        if len(sums) > MAX_STATES:
            return None
    return 0 in sums


def constrain(rows: dict[str, RowReadings], equations: Sequence[Equation], order: Sequence[str]) -> JointResult:
    """Narrow ``rows`` (keyed as ``order`` lists them, in print order) by the cross-row ``equations``."""
    result = JointResult(rows=dict(rows))
    where = _cell_index(rows)
    prepared = [p for eq in equations if (p := _prepare(eq, rows, where)) is not None]
    kept: list[_Eq] = []
    for p in prepared:
        ok = _satisfiable(p, rows)
        if ok is False:
            result.unsatisfiable.append(p.equation)
        elif ok is True and p.terms:
            kept.append(p)
    variables = [k for k in order if any(k in p.terms for p in kept)]
    if not variables:
        return result
    start = tuple(p.constant for p in kept)
    layers: list[dict[tuple[int, ...], None]] = [{start: None}]
    edges: list[list[tuple[tuple[int, ...], int, tuple[int, ...]]]] = []
    total = 0
    for key in variables:
        readings = rows[key].readings or []
        vectors = [tuple(_contribution(r, p.terms.get(key, [])) for p in kept) for r in readings]
        nxt: dict[tuple[int, ...], None] = {}
        layer_edges: list[tuple[tuple[int, ...], int, tuple[int, ...]]] = []
        for u in layers[-1]:
            for idx, vec in enumerate(vectors):
                v = tuple(a + b for a, b in zip(u, vec))
                nxt[v] = None
                layer_edges.append((u, idx, v))
        total += len(nxt)
        if total > MAX_STATES:
            result.notes.append("too many combinations of undecided rows to weigh the column equations")
            return result
        layers.append(nxt)
        edges.append(layer_edges)
    zero = tuple(0 for _ in kept)
    if zero not in layers[-1]:
        result.notes.append("no combination of the rows' readings satisfies the column equations together")
        return result
    good: set[tuple[int, ...]] = {zero}
    surviving: dict[str, set[int]] = {}
    witness_edges: list[dict[tuple[int, ...], tuple[int, tuple[int, ...]]]] = []
    for key, layer_edges in zip(reversed(variables), reversed(edges)):
        prev_good: set[tuple[int, ...]] = set()
        keep: set[int] = set()
        step: dict[tuple[int, ...], tuple[int, tuple[int, ...]]] = {}
        for u, idx, v in layer_edges:
            if v in good:
                prev_good.add(u)
                keep.add(idx)
                step.setdefault(u, (idx, v))
        surviving[key] = keep
        witness_edges.append(step)
        good = prev_good
    witness_edges.reverse()
    state = start
    for key, step in zip(variables, witness_edges):
        idx, state = step[state]
        result.witness[key] = (rows[key].readings or [])[idx]
    for key in variables:
        rr = rows[key]
        readings = [r for i, r in enumerate(rr.readings or []) if i in surviving[key]]
        result.rows[key] = _narrowed(rr, readings)
    return result


def _narrowed(rr: RowReadings, readings: list[Reading]) -> RowReadings:
    options: list[list[CellOption]] = []
    for j in range(len(rr.place.paths)):
        seen: dict[tuple[object, str | None], CellOption] = {}
        for r in readings:
            seen.setdefault((r[j].value, r[j].unit), r[j])
        options.append(list(seen.values()))
    return RowReadings(rr.place, options, readings, cost=rr.cost, exhausted=rr.exhausted,
                       notes=[*rr.notes, "narrowed by the column equations"])
