"""``--engine template``: the deterministic reader alone."""

from __future__ import annotations

import time

from extractor.engines.base import ReaderOutput
from extractor.normalize import NormalizedText
from extractor.reader.template_reader import build_report, locate
from extractor.sections import DocumentLayout


class TemplateEngine:
    name = "template"

    def read(self, source: NormalizedText, layout: DocumentLayout, config: object) -> ReaderOutput:
        t0 = time.perf_counter()
        smap = locate(source, layout)
        report = build_report(smap, layout)
        producers = {path: "template" for path in smap.cells}
        return ReaderOutput(report=report, findings=list(smap.findings), producers=producers,
                            meta={"timings_s": {"template_read": time.perf_counter() - t0}})
