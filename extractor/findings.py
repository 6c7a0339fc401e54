"""Findings and evidence: the checker's and grounding's output, as data (canonical-json.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Authority = Literal["official", "derived", "heuristic"]
Severity = Literal["error", "warning", "info"]
Attribution = Literal["report", "extraction"]
GroundingStatus = Literal["grounded", "mismatch", "unsupported", "blank"]


class Evidence(BaseModel):
    """Where a cell's value stands in the source text the user gave (offsets into that text)."""

    model_config = ConfigDict(extra="forbid")

    status: GroundingStatus
    start: int | None = None
    end: int | None = None
    text: str | None = None
    # extra detail beyond the contract
    source_value: str | None = None  # what the source holds at this cell's place, when it differs (mismatch)
    match: str | None = None  # "exact" | "split" (a glued run's part) | "normalized" | None
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
