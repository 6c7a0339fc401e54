"""``--engine hybrid`` (the default): the template reader first, the LLM only where it could not prove a cell.

1. The deterministic template reader reads the report; grounding and the checker judge its cells.
2. Cells it could not read or ground (evidence mismatch/unsupported, its own extraction doubts, rows or
   sections it did not find) go to the LLM, row by row; agency and year go to the LLM only when the
   layout did not find them.
3. An LLM value replaces the template's only when grounding rates it higher. Where the readers disagree
   and neither is grounded, the template value stays and a review finding (X-DISAGREE) says so.
4. The checker-driven repair loop then re-asks the LLM rows that are still unsupported.

If the template reader proves every cell, no model is loaded at all. If the model or endpoint is
unavailable (it crashed, timed out, refused, or the retries ran out), the template reading is returned
as it is, with a finding (X-NO-MODEL) that names every cell the model would have been asked about.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from extractor.engines.base import ReaderOutput
from extractor.engines.llm_engine import LLMFactory, LLMSectionAsker, guess_template
from extractor.engines.template_engine import TemplateEngine
from extractor.errors import LLMError, ModelUnavailableError, NianbaoError
from extractor.findings import Evidence, Finding
from extractor.llm_sections import SectionSpec, detect_single_other_row, set_cell_safely, table_specs, unit_of
from extractor.normalize import NormalizedText
from extractor.repair import BAD_STATUSES, repair_loop, status_rank
from extractor.schema import CellValue, Report, empty_report, iter_cells
from extractor.sections import DocumentLayout
from extractor.template_spec import cell_label
from extractor.verify import verify

def _layout_of(report: Report, layout: DocumentLayout, fallback_text: str) -> tuple[Literal["2019", "2021"], bool]:
    template: Literal["2019", "2021"] = report.template or guess_template(layout)
    if report.applications:
        single = report.single_other_row
    else:
        single = detect_single_other_row(fallback_text, template)
    return template, single


def _doubtful_cells(
    report: Report,
    evidence: dict[str, Evidence],
    template: Literal["2019", "2021"],
    single: bool,
) -> list[str]:
    """Cells an answer could settle: missing because their row or section was not found, or unsupported
    where the source shows no reading of their place. Not a value the text admits among others (a glued
    run that cuts several ways): no model can read digits that are not there."""
    present = dict(iter_cells(report))
    doubtful: dict[str, None] = {}
    for path, _value in iter_cells(empty_report(template, single)):
        if path not in present:
            doubtful[path] = None
        elif (ev := evidence.get(path)) is not None and ev.status in BAD_STATUSES and not ev.undecided:
            doubtful[path] = None
    # The reader's own notes (a lone number displaced from its cell) name cells whose place is known and
    # prints nothing: an answer there could not be grounded either, so they are not asked.
    return list(doubtful)


def _disagreement(path: str, template_value: CellValue, llm_value: CellValue) -> Finding:
    shown_t = "空白" if template_value is None else str(template_value)
    shown_l = "空白" if llm_value is None else str(llm_value)
    return Finding(
        rule="X-DISAGREE",
        authority="heuristic",
        severity="warning",
        attribution="extraction",
        cells=[path],
        expected=llm_value if isinstance(llm_value, (int, str)) else None,
        found=template_value if isinstance(template_value, (int, str)) else None,
        message=f"{cell_label(path)}：规则读取为 {shown_t}，模型读取为 {shown_l}，两者都无法由原文确证，请人工核对",
    )


def _model_not_consulted(error: NianbaoError, cells: list[str]) -> Finding:
    """The review finding of a hybrid reading made without the model: it names every cell the model
    would have been asked about, so each stays flagged."""
    reason = error.message.strip().splitlines()[0][:200] if error.message.strip() else type(error).__name__
    doubt = f"规则未能确证的 {len(cells)} 个单元格均未经模型复核，仍标为存疑" if cells else "机关名称、年度未经模型补充"
    return Finding(
        rule="X-NO-MODEL",
        authority="heuristic",
        severity="warning",
        attribution="extraction",
        cells=cells,
        message=f"未咨询模型：以下为规则读取结果，{doubt}；模型可用时可重新提取（model not consulted: {reason}）",
    )


class HybridEngine:
    name = "hybrid"

    def __init__(
        self, llm_factory: LLMFactory | None = None, *, use_examples: bool = True, template_engine: Any = None
    ) -> None:
        self._llm_factory = llm_factory
        self._use_examples = use_examples
        self._template = template_engine or TemplateEngine()

    def read(self, source: NormalizedText, layout: DocumentLayout, config: Any) -> ReaderOutput:
        started = time.perf_counter()
        base = self._template.read(source, layout, config)
        report = base.report.model_copy(deep=True)
        producers: dict[str, str] = {p: "template" for p, _ in iter_cells(report)}
        producers.update({p: r for p, r in base.producers.items() if p in producers})
        t = time.perf_counter()
        _, evidence = verify(report, source, layout, reader_findings=base.findings, producers=producers)
        timings: dict[str, float] = {
            "template_read": float(base.meta.get("timings_s", {}).get("template_read", 0.0)),
            "hybrid_verify_template": time.perf_counter() - t,
        }

        asker = LLMSectionAsker(config, source, layout, llm_factory=self._llm_factory, use_examples=self._use_examples)
        extra_findings: list[Finding] = []
        rounds = 0
        unavailable: NianbaoError | None = None
        llm_cells: dict[str, CellValue] = {}
        try:
            report.agency = report.agency or layout.agency
            report.year = report.year or layout.year
            if report.agency is None or report.year is None:
                agency, year = asker.ask_header()
                report.agency = report.agency or agency
                report.year = report.year or year
            template, single = _layout_of(report, layout, asker.section_text(3))
            if report.template is None:
                report.template = template
            doubtful = _doubtful_cells(report, evidence, template, single)
            if doubtful:
                specs = table_specs(template, single)
                llm_cells = self._ask_units(asker, specs, doubtful)
                extra_findings = self._merge(report, evidence, llm_cells, producers, source, layout, base.findings)
                # Worth re-asking: cells where the source shows a value that neither reader gave. Where the
                # source holds nothing readable at the cell's place, no answer could ever be grounded.
                retry = {p for p in llm_cells if (ev := evidence.get(p)) is not None and ev.status == "mismatch"}

                def eligible(path: str) -> bool:
                    return path in retry

                if config.max_repair_rounds > 0 and any(
                    (ev := evidence.get(p)) is not None and ev.status == "mismatch" and producers.get(p) != "llm"
                    for p in retry
                ):
                    t = time.perf_counter()
                    outcome = repair_loop(
                        report, source, layout, asker, specs, max_rounds=config.max_repair_rounds,
                        verify_fn=verify, producers=producers, eligible=eligible, reader_findings=base.findings,
                    )
                    rounds = outcome.rounds
                    asker.timings["repair_total"] = time.perf_counter() - t
                    # A disagreement the repair settled with a grounded value is no longer a question.
                    settled = {p for p, ev in outcome.evidence.items() if ev.status == "grounded" and producers.get(p) == "llm"}
                    extra_findings = [f for f in extra_findings if not set(f.cells) <= settled]
        except (LLMError, ModelUnavailableError) as exc:
            # The model or endpoint is unavailable (a crash, a timeout, refused, retries spent; answers the
            # model could not give validly were already findings): the template reading stands alone.
            report, llm_cells, rounds, unavailable = base.report.model_copy(deep=True), {}, 0, exc
            producers = {p: "template" for p, _ in iter_cells(report)}
            producers.update({p: r for p, r in base.producers.items() if p in producers})
            report.agency = report.agency or layout.agency
            report.year = report.year or layout.year
            template, single = _layout_of(report, layout, asker.section_text(3))
            report.template = report.template or template
            asker.failures = [_model_not_consulted(exc, _doubtful_cells(report, evidence, template, single))]
            extra_findings = []
        finally:
            asker.close()

        llm_made = {p for p, r in producers.items() if r == "llm"}
        reader_findings = [f for f in base.findings if not (f.cells and set(f.cells) <= llm_made)]
        timings.update(asker.timings)
        timings["hybrid_read"] = time.perf_counter() - started
        meta: dict[str, Any] = {
            "llm": asker.meta(rounds),
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
            "hybrid": {
                "cells_from_template": sum(1 for r in producers.values() if r == "template"),
                "cells_from_llm": len(llm_made),
                "cells_asked": len(llm_cells),
                "disagreements": len(extra_findings),
                # Why the model could not be consulted, when it could not (the reading is the template's).
                "model_error": unavailable.message[:500] if unavailable is not None else None,
            },
        }
        evidence_out = {p: ev for p, ev in base.evidence.items() if producers.get(p) == "template"}
        return ReaderOutput(
            report=report,
            evidence=evidence_out,
            findings=reader_findings + extra_findings + asker.failures,
            producers={p: r for p, r in producers.items() if p in dict(iter_cells(report))},
            meta=meta,
        )

    @staticmethod
    def _ask_units(asker: LLMSectionAsker, specs: list[SectionSpec], doubtful: list[str]) -> dict[str, CellValue]:
        units = {unit_of(p) for p in doubtful}
        cells: dict[str, CellValue] = {}
        for spec in specs:
            wanted = [u for u in spec.units if u in units]
            if wanted:
                cells.update(asker.ask(spec.subset(wanted)))
        wanted_cells = set(doubtful)
        return {p: v for p, v in cells.items() if p in wanted_cells}

    @staticmethod
    def _merge(
        report: Report,
        evidence: dict[str, Evidence],
        llm_cells: dict[str, CellValue],
        producers: dict[str, str],
        source: NormalizedText,
        layout: DocumentLayout,
        reader_findings: list[Finding],
    ) -> list[Finding]:
        """Take each LLM value that grounding rates above the template's; flag unresolved disagreements."""
        present = dict(iter_cells(report))
        candidate = report.model_copy(deep=True)
        for path, value in llm_cells.items():
            set_cell_safely(candidate, path, value)
        _, llm_evidence = verify(candidate, source, layout, producers={**producers, **dict.fromkeys(llm_cells, "llm")})
        disagreements: list[Finding] = []
        for path, llm_value in llm_cells.items():
            had_cell = path in present
            template_value = present.get(path)
            old, new = evidence.get(path), llm_evidence.get(path)
            if had_cell and llm_value == template_value:
                continue
            if not had_cell and llm_value is None:
                continue  # a blank answer for a row the template reader did not find: the row stays absent
            if status_rank(new) > status_rank(old) and new is not None and new.status in ("grounded", "blank"):
                set_cell_safely(report, path, llm_value)
                producers[path] = "llm"
                continue
            if not had_cell and llm_value in (None, 0):
                continue  # a row the report does not print, and the model did not claim a number for it
            if llm_value != template_value:
                disagreements.append(_disagreement(path, template_value, llm_value))
        return disagreements
