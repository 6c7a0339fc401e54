"""Grounding plus the checker, for a report from any reader or person."""

from __future__ import annotations

from extractor.findings import Evidence, Finding
from extractor.grounding import ground
from extractor.normalize import NormalizedText
from extractor.readings.source import admit
from extractor.rules import RuleInput, check_report, shifts_blame_on_reader_doubt
from extractor.schema import Report
from extractor.sections import DocumentLayout, analyze_layout

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def verify(report: Report, source: NormalizedText | None, layout: DocumentLayout | None = None,
           reader_findings: list[Finding] | None = None,
           producers: dict[str, str] | None = None) -> tuple[list[Finding], dict[str, Evidence]]:
    """Ground every cell of ``report`` in ``source`` and run every rule of ``extractor.rules``; returns
    (findings, evidence)."""
    if source is not None and layout is None:
        layout = analyze_layout(source)
    readings = admit(source, layout, report.template) if source is not None and layout is not None else None
    evidence = ground(report, source, readings, producers)
    findings = check_report(RuleInput(report, evidence, layout, source.text if source is not None else None))
    # an equation whose operand the reader itself doubts is not proof of the agency's error
    doubted = {c for f in reader_findings or [] if f.attribution == "extraction" for c in f.cells}
    for f in findings:
        if f.attribution == "report" and shifts_blame_on_reader_doubt(f.rule) and doubted.intersection(f.cells):
            f.attribution = "extraction"
    reported = {f.key() for f in findings}
    for f in reader_findings or []:
        if f.key() not in reported:
            findings.append(f)
            reported.add(f.key())
    findings.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.attribution != "report", f.rule))
    return findings, evidence
