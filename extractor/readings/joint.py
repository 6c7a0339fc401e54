"""The table's equations across rows (R3.1 勾稽关系, R3.2 column totals) narrow the rows' readings.

Each row admits a few readings on its own (``extractor.readings.rows``); a column equation can rule some
out. The table admits the combinations that break the fewest equations. An equation no combination can
satisfy (the report's own error, e.g. a 总计 row printed as zeros) is broken by every combination and
decides nothing; the others must then all hold, and where no combination satisfies them together the
rows keep every reading (more undecided cells, never a wrongly proven one).

A dynamic programme over the undecided rows, whose state is the vector of the equations' running
residuals, finds the combinations without listing them; it gives up (keeps every reading) past
``MAX_STATES`` states or ``MAX_STEPS`` steps (states × distinct readings).

A row cut too many ways to weigh its own equation (``RowReadings.exhausted``: long glued runs of large
counts, typically 一、本年新收 and （七）总计) is read from the others first: where every other operand of
its column equations is decided, the equations give each of its cells one value, and when its printed
characters admit exactly that reading, with every cell printed and its own equations holding, that is the
one reading the row can take without breaking a column equation every other reading would break (it
costs nothing, and every other cut breaks an equation it keeps). Otherwise it stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from extractor.equations import Equation
from extractor.readings.rows import (
    Reading,
    RowReadings,
    cell_index,
    fit,
    fixed_value,
    own_equations,
    settled,
    with_readings,
)

MAX_STATES = 50_000
MAX_STEPS = 400_000  # states × distinct readings tried: the DP's time, bounded as its memory is


@dataclass
class JointResult:
    rows: dict[str, RowReadings]
    witness: dict[str, Reading] = field(default_factory=dict)  # one combination that satisfies every equation kept
    unsatisfiable: list[Equation] = field(default_factory=list)  # broken by every combination
    notes: list[str] = field(default_factory=list)


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


def _implied(rows: dict[str, RowReadings], equations: Sequence[Equation],
             where: dict[str, tuple[str, int]]) -> dict[str, int]:
    """The values the equations give the cells of exhausted rows, from the decided rows, step by step
    (（七）总计 from the outcome rows, then 一、本年新收 from 总计). None at all when the equations
    disagree: one gives a cell a negative value, or an equation whose operands all have values breaks."""
    known: dict[str, int] = {}

    def value(path: str) -> int | None:
        if path in known:
            return known[path]
        hit = where.get(path)
        if hit is None:
            return None
        return settled(rows[hit[0]], hit[1])

    def can_give(path: str) -> bool:
        hit = where.get(path)
        return hit is not None and rows[hit[0]].exhausted and not rows[hit[0]].uncertain

    changed = True
    while changed:
        changed = False
        for eq in equations:
            terms = [(coef, path, value(path)) for coef, paths in ((1, eq.lhs), (-1, eq.rhs)) for path in paths]
            free = [(coef, path) for coef, path, v in terms if v is None]
            residual = sum(coef * v for coef, _path, v in terms if v is not None)
            if not free:
                if residual != 0 and any(path in known for _coef, path, _v in terms):
                    return {}  # the values given so far break an equation: they are not one reading
                continue
            if len(free) > 1 or not can_give(free[0][1]):
                continue
            coef, path = free[0]
            implied = -residual * coef  # coef is ±1
            if implied < 0:
                return {}
            known[path] = implied
            changed = True
    return known


def _read_exhausted(rows: dict[str, RowReadings], equations: Sequence[Equation],
                    row_equations: Sequence[Equation], where: dict[str, tuple[str, int]], result: JointResult) -> None:
    """Decide the exhausted rows whose printed characters admit the reading the column equations give them."""
    known = _implied(rows, equations, where)
    for key, rr in rows.items():
        if not rr.exhausted or rr.uncertain:
            continue
        values = [known.get(p) for p in rr.place.paths]
        if any(v is None for v in values):
            continue
        by_path = dict(zip(rr.place.paths, values))
        own = own_equations(rr.place.paths, row_equations)
        if any(by_path[eq.lhs[0]] != sum(by_path.get(p, 0) or 0 for p in eq.rhs) for eq in own):
            continue  # it would break its own equation: a cut that keeps it may break a column instead
        reading = fit(rr.place, [v for v in values if v is not None])
        if reading is None:
            continue
        rows[key] = RowReadings(rr.place, [[o] for o in reading], [reading], cost=0,
                                notes=[*rr.notes, "read from the column equations: the one cut that keeps them"])
        result.notes.append(f"{key}: read from the column equations (too many ways to cut it alone)")


def constrain(rows: dict[str, RowReadings], equations: Sequence[Equation], order: Sequence[str],
              row_equations: Sequence[Equation] = ()) -> JointResult:
    """Narrow ``rows`` (keyed as ``order`` lists them, in print order) by the cross-row ``equations``;
    ``row_equations`` (each row's own) are what an exhausted row's reading must keep too."""
    result = JointResult(rows=dict(rows))
    where = cell_index(rows)
    _read_exhausted(result.rows, equations, row_equations, where, result)
    rows = result.rows
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
    # readings that add the same amounts to every equation are one step of the DP (a row's 0 among blanks
    # stands in any of several cells): the steps are the distinct vectors, each with its readings
    groups: list[list[list[int]]] = []
    total = steps = 0
    for key in variables:
        readings = rows[key].readings or []
        by_vector: dict[tuple[int, ...], list[int]] = {}
        for i, r in enumerate(readings):
            by_vector.setdefault(tuple(_contribution(r, p.terms.get(key, [])) for p in kept), []).append(i)
        vectors = list(by_vector)
        groups.append(list(by_vector.values()))
        steps += len(layers[-1]) * len(vectors)
        if steps > MAX_STEPS:
            result.notes.append("too many combinations of undecided rows to weigh the column equations")
            return result
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
    for key, layer_edges, group in zip(reversed(variables), reversed(edges), reversed(groups)):
        prev_good: set[tuple[int, ...]] = set()
        keep: set[int] = set()
        step: dict[tuple[int, ...], tuple[int, tuple[int, ...]]] = {}
        for u, idx, v in layer_edges:
            if v in good:
                prev_good.add(u)
                keep.update(group[idx])
                step.setdefault(u, (group[idx][0], v))
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
        result.rows[key] = with_readings(rr, readings, "narrowed by the column equations")
    return result
