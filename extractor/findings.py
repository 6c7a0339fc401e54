"""Findings and evidence: the checker's and grounding's output, as data (canonical-json.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Authority = Literal["official", "derived", "heuristic"]
Severity = Literal["error", "warning", "info"]
Attribution = Literal["report", "extraction"]
GroundingStatus = Literal["grounded", "mismatch", "unsupported", "blank"]
# how a value meets the source: a structured cell, a part of a glued run, a printed blank read as 0, or
# one of several placements of a row's values (which cell a number stands in is not shown)
MatchKind = Literal["exact", "split", "blank_as_zero", "placement"]


class Evidence(BaseModel):
    """Where a cell's value stands in the source text the user gave (offsets into that text)."""

    model_config = ConfigDict(extra="forbid")

    status: GroundingStatus
    start: int | None = None
    end: int | None = None
    text: str | None = None
    # extra detail beyond the contract
    source_value: str | None = None  # what the source holds at this cell's place, when it differs (mismatch)
    # unsupported: the other values the source's readings admit at this cell's place (may be empty)
    alternatives: list[int | str | None] | None = None
    # unsupported, and the value is one of several the source's readings admit: the text does not decide
    # (a glued run that cuts several ways); no reader, human or model, can prove it from this text
    undecided: bool = False
    match: MatchKind | None = None
    reader: str | None = None  # which reader produced the value: "template", "llm", "human"
    note: str | None = None


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    authority: Authority
    severity: Severity
    attribution: Attribution
    cells: list[str]
    expected: int | str | None = None
    found: int | str | None = None
    message: str

    def key(self) -> tuple[str, tuple[str, ...], str]:
        return (self.rule, tuple(self.cells), self.message)


# Grounding statuses that doubt a cell's reading.
DOUBT_STATUSES: frozenset[str] = frozenset({"mismatch", "unsupported"})


def doubted_cells(findings: Iterable[Finding], evidence: Mapping[str, Evidence],
                  skip_rules: frozenset[str] = frozenset()) -> set[str]:
    """Cells we may have misread: grounding doubts them, or a finding attributed to the extraction names
    them (except findings of ``skip_rules``)."""
    cells = {path for path, ev in evidence.items() if ev.status in DOUBT_STATUSES}
    for finding in findings:
        if finding.attribution == "extraction" and finding.rule not in skip_rules:
            cells.update(finding.cells)
    return cells


def doubted_cells_of_json(findings: Iterable[Mapping[str, Any]], evidence: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """``doubted_cells`` of a stored result (canonical JSON's ``findings`` and ``evidence``), unvalidated."""
    return doubted_cells([Finding.model_construct(**f) for f in findings],
                         {path: Evidence.model_construct(**ev) for path, ev in evidence.items()})
