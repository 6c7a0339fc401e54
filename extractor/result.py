"""What one extraction returns: the report, its findings and evidence, and how it was made."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from extractor.findings import Evidence, Finding
from extractor.schema import Report

Status = Literal["ok", "not_a_report", "failed"]


class ExtractionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report: Report
    findings: list[Finding] = Field(default_factory=list)
    evidence: dict[str, Evidence] = Field(default_factory=dict)
    source_text: str = ""
    source_name: str | None = None
    source_format: str = "text"
    source_sha256: str = ""
    status: Status = "ok"
    error: str | None = None
    # engine, model, timings (seconds per stage), tokens in/out, retries, reader notes
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def report_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.attribution == "report" and f.severity != "info"]

    @property
    def extraction_doubts(self) -> list[Finding]:
        return [f for f in self.findings if f.attribution == "extraction"]

    def to_dict(self, include_source: bool = False) -> dict[str, Any]:
        """Canonical JSON of the report with ``findings``, ``evidence`` and ``meta`` added."""
        data = self.report.canonical()
        data["findings"] = [f.model_dump(mode="json", exclude_none=False) for f in self.findings]
        data["evidence"] = {k: v.model_dump(mode="json", exclude_none=True) for k, v in self.evidence.items()}
        data["meta"] = dict(self.meta, status=self.status, source_sha256=self.source_sha256,
                            source_name=self.source_name, source_format=self.source_format)
        if self.error:
            data["meta"]["error"] = self.error
        if include_source:
            data["source_text"] = self.source_text
        return data
