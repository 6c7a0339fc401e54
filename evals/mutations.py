"""Mutation test of the checker: plant one wrong number and see whether the checker notices.

Each mutation perturbs one gold cell (off by one, swapped digits, the neighbouring row's value, a
number fabricated in a zero cell). It is used twice:

- **text mutation**: the number is written into the report's own text at the cell's span, the text
  is read again by an engine, and the arithmetic checker should blame the *report* for that cell;
- **hallucination**: the mutated report is checked against the *original* text, as if a reader had
  invented the number, and grounding should flag that cell.

Only cells whose evidence span prints exactly the gold number are mutated, so that the rendered text
differs from the original in that one number and nowhere else.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from extractor.findings import Evidence, Finding
from extractor.schema import Report, iter_cells, set_cell

from evals.scoring import flagged_cells, is_rule_finding, section_of

MutationKind = Literal["off_by_one", "swap_digits", "row_shift", "fabricated"]
KINDS: tuple[MutationKind, ...] = ("off_by_one", "swap_digits", "row_shift", "fabricated")

# Sections whose cells some arithmetic rule covers (R3.x, R4.1); section 二 has none in one report.
ARITHMETIC_SECTIONS: frozenset[str] = frozenset({"三", "四"})

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９－", "0123456789-")
_APP_PATH = re.compile(r"^applications\.(\w+)\[(\d)\]$")


@dataclass(frozen=True)
class Target:
    """A gold cell that can be mutated: an integer printed exactly at ``[start, end)`` of the text."""

    path: str
    value: int
    start: int
    end: int


@dataclass(frozen=True)
class Mutation:
    kind: MutationKind
    path: str
    old: int
    new: int
    start: int
    end: int

    @property
    def section(self) -> str:
        return section_of(self.path)

    @property
    def arithmetic_checkable(self) -> bool:
        return self.section in ARITHMETIC_SECTIONS


def mutation_targets(gold: Report, evidence: Mapping[str, Evidence], text: str) -> list[Target]:
    """Integer gold cells grounded at a span whose characters are exactly that number."""
    targets = []
    for path, value in iter_cells(gold):
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        ev = evidence.get(path)
        if ev is None or ev.status != "grounded" or ev.start is None or ev.end is None:
            continue
        if not (0 <= ev.start < ev.end <= len(text)):
            continue
        printed = text[ev.start:ev.end].translate(_FULL_WIDTH_DIGITS)
        if printed != str(value):
            continue
        targets.append(Target(path, value, ev.start, ev.end))
    return targets


def _row_and_column(path: str) -> tuple[str, str, str]:
    """(section prefix, row key, column key) of a cell path."""
    m = _APP_PATH.match(path)
    if m:
        return "applications", m.group(1), m.group(2)
    prefix, row, column = path.split(".")
    return prefix, row, column


def neighbour_values(gold: Report, path: str) -> list[int]:
    """Integer values of the same column in the rows just above and below (a row misread by one)."""
    prefix, row, column = _row_and_column(path)
    rows: list[str] = []
    values: dict[tuple[str, str], int] = {}
    for other_path, value in iter_cells(gold):
        p, r, c = _row_and_column(other_path)
        if p != prefix:
            continue
        if r not in rows:
            rows.append(r)
        if isinstance(value, int) and not isinstance(value, bool):
            values[(r, c)] = value
    i = rows.index(row)
    out = []
    for j in (i - 1, i + 1):
        if 0 <= j < len(rows) and (rows[j], column) in values:
            out.append(values[(rows[j], column)])
    return out


def _swapped(value: int, rng: random.Random) -> int | None:
    digits = str(abs(value))
    options = []
    for i in range(len(digits) - 1):
        if digits[i] == digits[i + 1] or (i == 0 and digits[i + 1] == "0"):
            continue
        options.append(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:])
    if not options:
        return None
    return int(rng.choice(options)) * (-1 if value < 0 else 1)


def mutate_value(kind: MutationKind, target: Target, gold: Report, rng: random.Random) -> int | None:
    """The wrong number for ``target`` under ``kind``, or None when the kind does not apply."""
    v = target.value
    if kind == "off_by_one":
        return v - 1 if v > 0 and rng.random() < 0.5 else v + 1
    if kind == "swap_digits":
        return _swapped(v, rng) if abs(v) >= 10 else None
    if kind == "row_shift":
        options = [n for n in neighbour_values(gold, target.path) if n != v]
        return rng.choice(options) if options else None
    if kind == "fabricated":
        return rng.randint(1, 30) if v == 0 else None
    raise ValueError(f"unknown mutation kind {kind!r}")


def plan_mutations(gold: Report, evidence: Mapping[str, Evidence], text: str, n: int, rng: random.Random) -> list[Mutation]:
    """Up to ``n`` mutations of distinct cells, cycling through the kinds so that each gets its turn."""
    targets = mutation_targets(gold, evidence, text)
    out: list[Mutation] = []
    used: set[str] = set()
    kinds = list(KINDS)
    rng.shuffle(kinds)
    attempts = 0
    while len(out) < n and attempts < n * len(KINDS) * 4 and targets:
        kind = kinds[attempts % len(kinds)]
        attempts += 1
        candidates = [t for t in targets if t.path not in used]
        if not candidates:
            break
        applicable = [(t, new) for t in candidates if (new := mutate_value(kind, t, gold, rng)) is not None]
        if not applicable:
            continue
        target, new = rng.choice(applicable)
        used.add(target.path)
        out.append(Mutation(kind, target.path, target.value, new, target.start, target.end))
    return out


def render_mutation(text: str, mutation: Mutation) -> str:
    """The text with the cell's printed number replaced by the mutated one, nothing else touched."""
    return text[:mutation.start] + str(mutation.new) + text[mutation.end:]


def mutated_report(gold: Report, mutation: Mutation) -> Report:
    report = gold.model_copy(deep=True)
    set_cell(report, mutation.path, mutation.new)
    return report


def blames_report_for(findings: list[Finding], path: str) -> bool:
    """Does a failed rule attributed to the report name this cell?"""
    return any(is_rule_finding(f) and f.attribution == "report" and path in f.cells for f in findings)


@dataclass
class MutationOutcome:
    sample: str
    mutation: Mutation
    read_as_mutated: bool | None  # did the engine read the planted number (None: the read failed)
    detected: bool  # text mutation: the checker blamed the report for this cell
    hallucination_flagged: bool  # report-only mutation: grounding flagged this cell
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        m = self.mutation
        return {
            "sample": self.sample, "kind": m.kind, "path": m.path, "section": m.section, "old": m.old, "new": m.new,
            "arithmetic_checkable": m.arithmetic_checkable, "read_as_mutated": self.read_as_mutated,
            "detected": self.detected, "hallucination_flagged": self.hallucination_flagged, "error": self.error,
        }


# (mutated text) -> (report read, findings); (report, original text) -> (findings, evidence)
ReadText = Callable[[str], tuple[Report, list[Finding]]]
Recheck = Callable[[Report, str], tuple[list[Finding], dict[str, Evidence]]]


def run_mutation(sample: str, text: str, gold: Report, mutation: Mutation, read_text: ReadText, recheck: Recheck) -> MutationOutcome:
    error = None
    read_as_mutated: bool | None = None
    detected = False
    try:
        report, findings = read_text(render_mutation(text, mutation))
        read_as_mutated = dict(iter_cells(report)).get(mutation.path) == mutation.new
        detected = blames_report_for(findings, mutation.path)
    except Exception as exc:  # a read that crashes is recorded, the test goes on
        error = f"{type(exc).__name__}: {exc}"
    flagged = False
    try:
        h_findings, h_evidence = recheck(mutated_report(gold, mutation), text)
        flagged = mutation.path in flagged_cells(h_findings, h_evidence)
    except Exception as exc:
        error = (error + "; " if error else "") + f"recheck {type(exc).__name__}: {exc}"
    return MutationOutcome(sample, mutation, read_as_mutated, detected, flagged, error)


@dataclass
class MutationSummary:
    total: int
    checkable: int
    detected_checkable: int
    read_as_mutated: int
    hallucination_flagged: int
    by_kind: dict[str, dict[str, int]]

    @property
    def detection_rate(self) -> float | None:
        return self.detected_checkable / self.checkable if self.checkable else None

    @property
    def hallucination_rate(self) -> float | None:
        return self.hallucination_flagged / self.total if self.total else None

    def to_dict(self) -> dict[str, object]:
        return {
            "mutations": self.total, "arithmetic_checkable": self.checkable,
            "detected": self.detected_checkable, "detection_rate": self.detection_rate,
            "read_as_mutated": self.read_as_mutated, "hallucination_flagged": self.hallucination_flagged,
            "hallucination_rate": self.hallucination_rate, "by_kind": self.by_kind,
        }


def summarize(outcomes: list[MutationOutcome]) -> MutationSummary:
    """Detection counts only mutations in sections an arithmetic rule covers (三, 四): a wrong number
    in section 二 cannot break any sum, so missing it is no fault of the checker."""
    by_kind: dict[str, dict[str, int]] = {}
    for o in outcomes:
        k = by_kind.setdefault(o.mutation.kind, {"mutations": 0, "checkable": 0, "detected": 0, "hallucination_flagged": 0})
        k["mutations"] += 1
        k["checkable"] += int(o.mutation.arithmetic_checkable)
        k["detected"] += int(o.mutation.arithmetic_checkable and o.detected)
        k["hallucination_flagged"] += int(o.hallucination_flagged)
    return MutationSummary(
        total=len(outcomes),
        checkable=sum(o.mutation.arithmetic_checkable for o in outcomes),
        detected_checkable=sum(o.mutation.arithmetic_checkable and o.detected for o in outcomes),
        read_as_mutated=sum(bool(o.read_as_mutated) for o in outcomes),
        hallucination_flagged=sum(o.hallucination_flagged for o in outcomes),
        by_kind=by_kind,
    )
