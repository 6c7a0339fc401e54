"""``--engine template``: the deterministic reader alone."""

from __future__ import annotations

import time

from extractor.engines.base import ReaderOutput
from extractor.normalize import NormalizedText
from extractor.reader.template_reader import build_report
from extractor.readings.source import admit
from extractor.schema import iter_cells
from extractor.sections import DocumentLayout


class TemplateEngine:
    name = "template"

    def read(self, source: NormalizedText, layout: DocumentLayout, config: object) -> ReaderOutput:
        t0 = time.perf_counter()
        readings = admit(source, layout)
        report, findings = build_report(readings, layout)
        producers = {path: "template" for path, _ in iter_cells(report)}
        return ReaderOutput(report=report, findings=findings, producers=producers,
                            meta={"timings_s": {"template_read": time.perf_counter() - t0}})
