"""The engine interface: an engine reads a document into a Report plus the reader's own evidence.

Grounding and the checker run after every engine in ``extractor.pipeline``; an engine never judges
its own output.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from extractor.findings import Evidence, Finding
from extractor.normalize import NormalizedText
from extractor.schema import Report
from extractor.sections import DocumentLayout


class ReaderOutput(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    report: Report
    # Evidence the reader itself recorded (spans into the ORIGINAL text), keyed by cell path.
    evidence: dict[str, Evidence] = Field(default_factory=dict)
    # Problems the reader met (ambiguous splits, extra cells, unreadable cells) as findings.
    findings: list[Finding] = Field(default_factory=list)
    # Which reader produced each cell (path -> "template" | "llm" | ...), where it differs per cell.
    producers: dict[str, str] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)


class Engine(Protocol):
    name: str

    def read(self, source: NormalizedText, layout: DocumentLayout, config: "RunConfigLike") -> ReaderOutput: ...


class RunConfigLike(Protocol):
    @property
    def engine(self) -> str: ...
