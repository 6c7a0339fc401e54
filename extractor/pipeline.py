"""The one path every shell (CLI, UI, batch, evals) takes: ingest → normalize → layout → engine → verify."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from extractor.config import RunConfig
from extractor.engines import get_engine
from extractor.errors import NotAReportError
from extractor.findings import Evidence, Finding
from extractor.ingest import SourceDocument, load_path, load_text
from extractor.normalize import NormalizedText, normalize
from extractor.result import ExtractionResult
from extractor.schema import Report
from extractor.sections import DocumentLayout, analyze_layout
from extractor.verify import verify

Progress = Callable[[str, float], None]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def extract_document(doc: SourceDocument, config: RunConfig | None = None, progress: Progress | None = None) -> ExtractionResult:
    """Read one document with the configured engine and verify every cell. Never raises for a
    document that is not a report: that comes back with ``status="not_a_report"``."""
    config = config or RunConfig()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def step(name: str, fraction: float) -> None:
        if progress is not None:
            progress(name, fraction)

    step("normalize", 0.0)
    norm = normalize(doc.text)
    layout = analyze_layout(norm)
    timings["normalize_and_layout"] = time.perf_counter() - t0
    base = ExtractionResult(
        report=Report(agency=layout.agency, year=layout.year, template=layout.template),
        source_text=doc.text, source_name=doc.name, source_format=doc.format, source_sha256=sha256_text(doc.text),
        meta={"engine": config.engine, "warnings": list(doc.warnings)},
    )
    if not layout.is_report:
        base.status = "not_a_report"
        base.error = layout.not_report_reason or "not an annual report"
        return base

    step("read", 0.1)
    t1 = time.perf_counter()
    engine = get_engine(config.engine)
    out = engine.read(norm, layout, config)
    timings["read"] = time.perf_counter() - t1

    step("verify", 0.9)
    t2 = time.perf_counter()
    findings, evidence = verify(out.report, norm, layout, reader_findings=out.findings, producers=out.producers)
    timings["verify"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    base.report = out.report
    # an engine that got no usable answer at all returns an empty report: that is a failed read, not zeros
    fatal = next((f for f in out.findings if f.rule == "X-LLM" and f.severity == "error"), None)
    if fatal is not None:
        base.status = "failed"
        base.error = fatal.message
    base.findings = findings
    base.evidence = evidence
    base.meta.update(out.meta)
    base.meta["engine"] = config.engine
    base.meta["timings_s"] = {k: round(v, 4) for k, v in {**out.meta.get("timings_s", {}), **timings}.items()}
    step("done", 1.0)
    return base


def extract_text(text: str, config: RunConfig | None = None, name: str | None = None, progress: Progress | None = None) -> ExtractionResult:
    return extract_document(load_text(text, name), config, progress)


def extract_path(path: str | Path, config: RunConfig | None = None, progress: Progress | None = None) -> ExtractionResult:
    return extract_document(load_path(path), config, progress)


def recheck(report: Report, source_text: str | None) -> tuple[list[Finding], dict[str, Evidence]]:
    """Re-run grounding and the checker on an edited or imported report (the UI's live re-check)."""
    norm: NormalizedText | None = normalize(source_text) if source_text else None
    layout: DocumentLayout | None = analyze_layout(norm) if norm is not None else None
    return verify(report, norm, layout)


def require_report(result: ExtractionResult) -> ExtractionResult:
    if result.status == "not_a_report":
        raise NotAReportError(result.error or "not an annual report", hint_zh="这不是一份政府信息公开工作年度报告")
    return result
