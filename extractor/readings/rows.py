"""Every reading of one printed row: dynamic programming over its characters.

A *reading* assigns the row's printed characters to its cells in order: a cell slot is exactly one cell, a
glued run is cut into one or more cells by the number grammar, and where the row may leave cells blank
without printing anything (``RowPlace.missing``) a cell may take no characters — a blank, or where a
converter lost the cell, an unknown value. Among all readings, the row *admits* those that need the
fewest assumptions: each equation of the row a reading breaks (R3.3: the 总计 cell is the sum of the six
before it; R4.1 per group of table 四) is one — the agency erred — and so is each hidden blank — the page
printed nothing there. A reading that invents blanks and merges digits to make the arithmetic come out
explains the text no better than one that fills every cell and finds the agency's slip; where the counts
tie, both are admitted and the cells they disagree on stay undecided.

How many blanks a row has is not printed where a blank leaves no trace (``missing == "blank"``: agencies
that print nothing for 0, in glued crawls, layout text, one cell per line), so fewer blanks is never
proof on its own: a row without equations (table 二) admits every count of blanks, and a row with
equations also admits the readings that break the fewest equations (fewest blanks among them) beside its
cheapest. A lost cell (``"lost"``: a converter cut a structured row short) still costs one.

The DP runs over states (position in the row, cell index, running sum of the current equation), so its
cost grows with the row's length and the size of its numbers, never with the number of ways to cut it
(a row of 80 glued digits splits ~10^9 ways). A row whose DP would exceed ``MAX_EDGES`` is read
without its equations and without the preference for fewer blanks: every grammatical reading is admitted,
which can only leave more cells undecided, never prove a wrong one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from extractor.equations import Equation
from extractor.reader.places import RowPlace
from extractor.readings.grammar import LOST, ColumnKind, SourceValue, Unreadable, column_kind, run_cell, slot_cell

MAX_EDGES = 60_000  # a realistic row (≤ ~25 digits, counts below 10^5) needs a few thousand
MAX_READINGS = 2_000
# No cell of these tables prints more characters than this (counts, amounts with decimals and 万元); it keeps
# the reading of a pathological run linear in its length.
MAX_CELL_CHARS = 20
_BLANK = 1  # cost of a hidden blank: an assumption that the page printed nothing there
_BROKEN = 1  # cost of a broken equation: an assumption that the agency's arithmetic slipped


@dataclass(frozen=True)
class CellOption:
    """One value a reading gives a cell, and where it is printed (normalized offsets)."""

    value: SourceValue
    unit: str | None
    start: int
    end: int
    hidden: bool = False  # a blank the row does not print (its place is not shown)
    run: bool = False  # cut from a glued run


Reading = tuple[CellOption, ...]


@dataclass
class RowReadings:
    place: RowPlace
    options: list[list[CellOption]]  # per cell: the distinct values the admitted readings give it
    readings: list[Reading] | None  # the admitted readings (distinct values), None when more than MAX_READINGS
    cost: int = 0  # broken equations + hidden blanks of every admitted reading
    exhausted: bool = False  # too many states: read without equations
    uncertain: bool = False  # the row's place is not certain: options gather every place it may be at
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No reading at all: the printed characters fit no cut into the row's cells."""
        return not self.options or any(not o for o in self.options)

    @property
    def decided(self) -> bool:
        return not self.empty and all(len(o) == 1 for o in self.options)


# ---------------------------------------------------------------- equations of one row
@dataclass(frozen=True)
class _Role:
    eq: int
    first: bool  # the first part of its equation: the running sum starts here
    target: bool


def _roles(paths: Sequence[str], equations: Sequence[Equation]) -> list[_Role | None]:
    """Each cell's role in the row's equations: parts run before their target, equations do not nest."""
    index = {p: i for i, p in enumerate(paths)}
    roles: list[_Role | None] = [None] * len(paths)
    for e, eq in enumerate(equations):
        parts = sorted(index[p] for p in eq.rhs)
        target = index[eq.lhs[0]]
        if len(eq.lhs) != 1 or not parts or parts != list(range(parts[0], parts[-1] + 1)) or target <= parts[-1]:
            raise ValueError(f"row equation {eq.message} is not parts-then-total")
        for i in parts:
            roles[i] = _Role(e, i == parts[0], False)
        roles[target] = _Role(e, False, True)
    return roles


_POISON = "poison"  # an unreadable or decimal operand: the equation cannot be evaluated
Acc = int | str | None


def _contribution(value: SourceValue) -> int | str:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    return _POISON


# ---------------------------------------------------------------- the DP
Pos = tuple[int, int]  # (slot index, offset in the slot); (len(slots), 0) is the end
State = tuple[Pos, Acc]


_Edge = tuple[State, State, int, CellOption]  # (from, to, cost, the cell's option)


class _Overflow(Exception):
    pass


def _moves(place: RowPlace, pos: Pos, kind: ColumnKind) -> Iterator[tuple[Pos, CellOption, int]]:
    """Every way cell ``kind`` can be read from ``pos``: (next position, option, blank cost)."""
    k, o = pos
    slots = place.slots
    if place.missing != "none":
        if k < len(slots):
            here = slots[k]
            at = here.offsets[o] if o < len(here.offsets) else here.start
        else:
            at = place.end
        value: SourceValue = LOST if place.missing == "lost" else None
        yield pos, CellOption(value, None, at, at, hidden=True), _BLANK
    if k >= len(slots):
        return
    slot = slots[k]
    if slot.kind == "cell":
        value, unit = slot_cell(slot.chars, kind)
        yield (k + 1, 0), CellOption(value, unit, slot.start, slot.end), 0
        return
    text = slot.chars
    for b in range(o + 1, min(len(text), o + MAX_CELL_CHARS) + 1):
        parsed = run_cell(text[o:b], kind)
        if parsed is None:
            continue
        s, e = slot.span(o, b)
        nxt = (k + 1, 0) if b == len(text) else (k, b)
        yield nxt, CellOption(parsed[0], parsed[1], s, e, run=True), 0


def _solve(place: RowPlace, kinds: Sequence[ColumnKind], roles: Sequence[_Role | None], costed: bool,
           budget: int | None, broken_weight: int = _BROKEN, blank_weight: int = _BLANK
           ) -> tuple[list[dict[State, int]], list[list[_Edge]]]:
    """Forward pass: the cheapest cost of each state, layer by layer (one layer per cell), and every edge."""
    n = len(place.paths)
    start: State = ((0, 0), None)
    layers: list[dict[State, int]] = [{start: 0}]
    edges: list[list[_Edge]] = []
    moves: dict[tuple[Pos, ColumnKind], list[tuple[Pos, CellOption, int, int | str]]] = {}
    count = 0
    for j in range(n):
        nxt: dict[State, int] = {}
        layer_edges: list[_Edge] = []
        role = roles[j] if costed else None
        for u, cu in layers[j].items():
            pos, acc = u
            key = (pos, kinds[j])
            here = moves.get(key)
            if here is None:
                here = moves[key] = [(p, o, blank_weight if b else 0, _contribution(o.value))
                                     for p, o, b in _moves(place, pos, kinds[j])]
            count += len(here)
            if budget is not None and count > budget:
                raise _Overflow
            for npos, option, blank, c in here:
                # the running sum of the equation this cell belongs to, and the cost of breaking it
                nacc: Acc
                if not costed:
                    nacc, cost = None, 0
                elif role is None:
                    nacc, cost = acc, blank
                elif role.target:
                    broken = acc is not None and acc != _POISON and c != _POISON and acc != c
                    nacc, cost = None, blank + (broken_weight if broken else 0)
                else:
                    base = 0 if role.first else acc
                    nacc = base + c if isinstance(base, int) and isinstance(c, int) else _POISON
                    cost = blank
                v: State = (npos, nacc)
                layer_edges.append((u, v, cost, option))
                if cu + cost < nxt.get(v, 1 << 60):
                    nxt[v] = cu + cost
        layers.append(nxt)
        edges.append(layer_edges)
    return layers, edges


def _to_end(edges: list[list[_Edge]], finals: dict[State, int], n: int) -> list[dict[State, int]]:
    """Backward pass: the cheapest cost from each state to the end of the row."""
    to_end: list[dict[State, int]] = [dict() for _ in range(n + 1)]
    to_end[n] = {s: 0 for s in finals}
    for j in range(n - 1, -1, -1):
        here = to_end[j]
        after = to_end[j + 1]
        for u, v, cost, _option in edges[j]:
            rest = after.get(v)
            if rest is not None and cost + rest < here.get(u, 1 << 60):
                here[u] = cost + rest
    return to_end


def _optimal(layers: list[dict[State, int]], edges: list[list[_Edge]], n: int, end_pos: Pos
             ) -> tuple[int, list[list[_Edge]]] | None:
    """The best cost at the row's end and, per layer, the edges some cheapest reading takes (None: no
    reading reaches the end)."""
    finals = {s: c for s, c in layers[n].items() if s[0] == end_pos}
    if not finals:
        return None
    best = min(finals.values())
    to_end = _to_end(edges, finals, n)
    optimal: list[list[_Edge]] = []
    for j in range(n):
        keep = [e for e in edges[j] if e[1] in to_end[j + 1] and layers[j][e[0]] + e[2] + to_end[j + 1][e[1]] == best]
        optimal.append(keep)
    return best, optimal


def _options(optimal: list[list[_Edge]]) -> list[list[CellOption]]:
    out: list[list[CellOption]] = []
    for layer in optimal:
        seen: dict[tuple[object, str | None], CellOption] = {}
        for e in layer:
            seen.setdefault(_key(e[3]), e[3])
        out.append(list(seen.values()))
    return out


def read_row(place: RowPlace, equations: Sequence[Equation] = ()) -> RowReadings:
    """The readings a printed row admits (see the module docstring)."""
    n = len(place.paths)
    kinds = [column_kind(p) for p in place.paths]
    roles = _roles(place.paths, equations)
    end_pos: Pos = (len(place.slots), 0)
    exhausted = False
    # A blank that leaves no trace is an assumption only where an equation can weigh it; in a row without
    # one (table 二), fewer blanks is a preference, so every count of them is admitted.
    blank_weight = 0 if place.missing == "blank" and all(r is None for r in roles) else _BLANK
    try:
        layers, edges = _solve(place, kinds, roles, costed=True, budget=MAX_EDGES, blank_weight=blank_weight)
    except _Overflow:
        exhausted = True
        layers, edges = _solve(place, kinds, roles, costed=False, budget=None)
    result = RowReadings(place, [[] for _ in range(n)], [], exhausted=exhausted)
    if exhausted:
        result.notes.append("too many ways to cut this row to weigh its equations; every cut is kept")
    found = _optimal(layers, edges, n, end_pos)
    if found is None:
        result.readings = []
        return result
    result.cost, optimal = found
    result.options = _options(optimal)
    result.readings = _enumerate(optimal, n)
    if result.cost > 0 and not exhausted and place.missing == "blank" and any(r is not None for r in roles):
        # Where a blank cell leaves no trace, how many there are is not known: the readings that break the
        # fewest equations (with the fewest blanks among them) are admitted beside the cheapest, which may
        # break one with fewer blanks — that the agency slipped is then not what the text says.
        try:
            layers2, edges2 = _solve(place, kinds, roles, costed=True, budget=MAX_EDGES, broken_weight=n + 1)
            kept = _optimal(layers2, edges2, n, end_pos)
        except _Overflow:
            kept = None
        if kept is not None:
            merged = [[*mine, *other] for mine, other in zip(optimal, kept[1])]
            result.options = _options(merged)
            more = _enumerate(kept[1], n)
            if result.readings is None or more is None:
                result.readings = None
            else:
                distinct = {tuple(_key(o) for o in r): r for r in [*result.readings, *more]}
                result.readings = list(distinct.values()) if len(distinct) <= MAX_READINGS else None
    return result


def near_readings(place: RowPlace, equations: Sequence[Equation] = (), slack: int = 1
                  ) -> list[tuple[Reading, int]] | None:
    """Every reading whose cost is at most ``slack`` above the row's best, with its cost (distinct values;
    the cheapest way to print each), or None when the row is cut too many ways to weigh (``MAX_EDGES``) or
    there are more than ``MAX_READINGS``. What a row could read if the agency slipped in its own sum."""
    n = len(place.paths)
    kinds = [column_kind(p) for p in place.paths]
    roles = _roles(place.paths, equations)
    end_pos: Pos = (len(place.slots), 0)
    try:
        layers, edges = _solve(place, kinds, roles, costed=True, budget=MAX_EDGES)
    except _Overflow:
        return None
    finals = {st: c for st, c in layers[n].items() if st[0] == end_pos}
    if not finals:
        return []
    bound = min(finals.values()) + slack
    to_end = _to_end(edges, finals, n)
    Key = tuple[tuple[object, str | None], ...]
    frontier: dict[State, dict[Key, tuple[int, list[CellOption]]]] = {((0, 0), None): {(): (0, [])}}
    for j in range(n):
        nxt: dict[State, dict[Key, tuple[int, list[CellOption]]]] = {}
        count = 0
        for u, v, cost, option in edges[j]:
            partials = frontier.get(u)
            rest = to_end[j + 1].get(v)
            if not partials or rest is None:
                continue
            bucket = nxt.setdefault(v, {})
            for pk, (pc, taken) in partials.items():
                c = pc + cost
                if c + rest > bound:
                    continue
                nk = (*pk, _key(option))
                if nk not in bucket or bucket[nk][0] > c:
                    if nk not in bucket:
                        count += 1
                        if count > MAX_READINGS * 4:
                            return None
                    bucket[nk] = (c, [*taken, option])
        frontier = nxt
    out: dict[Key, tuple[Reading, int]] = {}
    for st, partials in frontier.items():
        if st[0] != end_pos:
            continue
        for pk, (c, taken) in partials.items():
            if pk not in out or out[pk][1] > c:
                out[pk] = (tuple(taken), c)
    if len(out) > MAX_READINGS:
        return None
    return list(out.values())


def _closest(place: RowPlace, targets: Sequence[int | None]) -> tuple[int, Reading] | None:
    """A cut of the printed row that prints every cell and gives the fewest cells a value other than
    ``targets`` (None: any value; a blank counts 0), with that count; None when the characters fit no cut."""
    n = len(place.paths)
    kinds = [column_kind(p) for p in place.paths]
    frontier: dict[Pos, tuple[int, list[CellOption]]] = {(0, 0): (0, [])}
    for j in range(n):
        nxt: dict[Pos, tuple[int, list[CellOption]]] = {}
        for pos, (cost, taken) in frontier.items():
            for npos, option, _blank in _moves(place, pos, kinds[j]):
                if option.hidden:
                    continue
                c = cost + (0 if targets[j] is None or fixed_value(option) == targets[j] else 1)
                if npos not in nxt or c < nxt[npos][0]:
                    nxt[npos] = (c, [*taken, option])
        frontier = nxt
    found = frontier.get((len(place.slots), 0))
    return None if found is None else (found[0], tuple(found[1]))


def deviations(place: RowPlace, targets: Sequence[int | None]) -> int | None:
    """The fewest cells that must differ from ``targets`` (None: any value) in a cut of the printed row that
    prints every cell, or None when the characters fit no such cut. A row given by the column equations
    (（七）总计 from the rows above it) breaks that many of them at best."""
    found = _closest(place, targets)
    return None if found is None else found[0]


def cell_values(place: RowPlace) -> list[set[int]]:
    """Per cell, every count some cut of the printed row (every cell printed) gives it: a cheap bound on
    ``deviations`` (a target outside its cell's set is a deviation whatever the cut)."""
    n = len(place.paths)
    kinds = [column_kind(p) for p in place.paths]
    layers: list[list[tuple[Pos, Pos, int | None]]] = []
    frontier: set[Pos] = {(0, 0)}
    for j in range(n):
        here = [(pos, npos, fixed_value(o)) for pos in frontier for npos, o, _b in _moves(place, pos, kinds[j])
                if not o.hidden]
        layers.append(here)
        frontier = {npos for _pos, npos, _v in here}
    alive: set[Pos] = {(len(place.slots), 0)}
    out: list[set[int]] = [set() for _ in range(n)]
    for j in range(n - 1, -1, -1):
        back: set[Pos] = set()
        for pos, npos, v in layers[j]:
            if npos in alive:
                back.add(pos)
                if v is not None:
                    out[j].add(v)
        alive = back
    return out


def fit(place: RowPlace, values: Sequence[int]) -> Reading | None:
    """A cut of the printed row that gives each cell exactly ``values`` (a blank counts 0), printing every
    cell (no hidden blank), or None: whether the row's characters admit a reading found elsewhere (the
    column equations)."""
    if len(values) != len(place.paths):
        return None
    found = _closest(place, values)
    return found[1] if found is not None and found[0] == 0 else None


def _key(option: CellOption) -> tuple[object, str | None]:
    return option.value, option.unit


def _enumerate(optimal: list[list[_Edge]], n: int) -> list[Reading] | None:
    """The distinct admitted readings, walking the optimal edges; None when there are too many."""
    by_state: list[dict[State, list[_Edge]]] = []
    for j in range(n):
        table: dict[State, list[_Edge]] = {}
        for e in optimal[j]:
            table.setdefault(e[0], []).append(e)
        by_state.append(table)
    Key = tuple[tuple[object, str | None], ...]
    frontier: dict[State, dict[Key, list[CellOption]]] = {e[0]: {(): []} for e in optimal[0]} if n else {}
    for j in range(n):
        nxt: dict[State, dict[Key, list[CellOption]]] = {}
        count = 0
        for u, partials in frontier.items():
            for _u, v, _cost, option in by_state[j].get(u, []):
                bucket = nxt.setdefault(v, {})
                k = _key(option)
                for pk, p in partials.items():
                    nk = (*pk, k)
                    if nk not in bucket:
                        bucket[nk] = [*p, option]
                        count += 1
                        if count > MAX_READINGS * 4:
                            return None
        frontier = nxt
    out: dict[Key, Reading] = {}
    for partials in frontier.values():
        for pk, p in partials.items():
            out.setdefault(pk, tuple(p))
    if len(out) > MAX_READINGS:
        return None
    return list(out.values())


def cell_index(rows: dict[str, RowReadings]) -> dict[str, tuple[str, int]]:
    """Each cell's path -> (its row's key, its index in the row)."""
    return {path: (key, i) for key, rr in rows.items() for i, path in enumerate(rr.place.paths)}


def own_equations(paths: Sequence[str], equations: Sequence[Equation]) -> list[Equation]:
    """The equations of one row among ``equations``: row-scoped, over its cells only."""
    return [eq for eq in equations if eq.scope == "row" and set(eq.cells) <= set(paths)]


def with_readings(rr: RowReadings, readings: list[Reading], note: str) -> RowReadings:
    """The row admitting exactly ``readings`` (narrowed by the column equations, or widened by a slip they
    make likely), each cell's options the distinct values they give it."""
    options: list[list[CellOption]] = []
    for j in range(len(rr.place.paths)):
        seen: dict[tuple[object, str | None], CellOption] = {}
        for r in readings:
            seen.setdefault(_key(r[j]), r[j])
        options.append(list(seen.values()))
    return RowReadings(rr.place, options, readings, cost=rr.cost, exhausted=rr.exhausted, notes=[*rr.notes, note])


def merge_places(primary: RowReadings, others: Sequence[RowReadings]) -> RowReadings:
    """A row that may stand at several places admits what any of them admits."""
    options: list[list[CellOption]] = []
    for j in range(len(primary.place.paths)):
        seen: dict[tuple[object, str | None], CellOption] = {}
        for rr in (primary, *others):
            for o in rr.options[j] if j < len(rr.options) else []:
                seen.setdefault(_key(o), o)
        options.append(list(seen.values()))
    return RowReadings(primary.place, options, primary.readings, cost=primary.cost,
                       exhausted=primary.exhausted, uncertain=True,
                       notes=[*primary.notes, "the row may stand at several places, or take different printed numbers: "
                              "only what every one of them gives is certain"])


def settled(rr: RowReadings, idx: int) -> int | None:
    """The count every admitted reading gives cell ``idx`` (a blank counts 0: where a row's one 0 stands
    among blanks does not matter to a sum), or None where they differ or one cannot count."""
    if rr.uncertain or rr.empty or idx >= len(rr.options):
        return None
    values = {fixed_value(o) for o in rr.options[idx]}
    return next(iter(values)) if len(values) == 1 and None not in values else None


def fixed_value(option: CellOption) -> int | None:
    """A reading's cell as a number for the table's equations: blank counts 0; None where it cannot count."""
    v = option.value
    if v is None:
        return 0
    if isinstance(v, int):
        return v
    return None


__all__ = ["CellOption", "Reading", "RowReadings", "cell_index", "cell_values", "deviations", "fit", "fixed_value",
           "near_readings", "own_equations", "read_row", "settled", "with_readings", "Unreadable"]
