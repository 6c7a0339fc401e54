"""The checker-driven repair loop: re-ask the model only the rows whose numbers the source does not support.

After an LLM extraction, grounding and the checker judge every cell. A cell whose evidence is
``mismatch`` or ``unsupported`` is our own misreading, so its row (a 三 row, a 二 row, a 四 group) is
asked again with the problems as feedback, at most ``max_rounds`` times. A re-asked value replaces the
old one only when grounding likes it better. Findings that the checker attributes to the report itself
(grounded numbers that do not add up) are never sent back: the report printed them, and "repairing"
them would make us lie about the source.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from extractor.findings import Evidence, Finding
from extractor.llm_sections import (
    AnswerField,
    SectionSpec,
    section2_spec,
    section3_spec,
    section4_spec,
    set_cell_safely,
    unit_of,
)
from extractor.normalize import NormalizedText
from extractor.prompting import render
from extractor.schema import CellValue, Report, get_cell
from extractor.sections import DocumentLayout

BAD_STATUSES = frozenset({"mismatch", "unsupported"})
# Grounding's own findings (checker.grounding_findings) restate a cell's evidence, which the feedback
# already gives per cell; repeating them only costs the model prompt tokens.
GROUNDING_RULES = frozenset({"G1", "G2"})
# Equation findings are useful hints, but every one is read on every repair call: a few suffice.
MAX_FEEDBACK_MESSAGES = 3
# How much a status proves; a re-asked value is kept only if it climbs this ladder.
_RANK = {"grounded": 3, "blank": 2, "mismatch": 1, "unsupported": 0}

VerifyFn = Callable[..., tuple[list[Finding], dict[str, Evidence]]]


class SectionAsker(Protocol):
    def ask(self, spec: SectionSpec, feedback: str | None = None) -> dict[str, CellValue]: ...


def status_rank(evidence: Evidence | None) -> int:
    return -1 if evidence is None else _RANK.get(evidence.status, 0)


def bad_cells(evidence: dict[str, Evidence], eligible: Callable[[str], bool] | None = None) -> list[str]:
    """Cells whose value the source does not support (extraction errors), in evidence order. A value the
    text admits among others (``undecided``) is not one: no answer could prove another reading better."""
    return [p for p, ev in evidence.items()
            if ev.status in BAD_STATUSES and not ev.undecided and (eligible is None or eligible(p))]


def feedback_for(
    cells: Iterable[str],
    report: Report,
    evidence: dict[str, Evidence],
    findings: list[Finding],
    spec: SectionSpec | None = None,
) -> str:
    """The repair prompt block for these cells, one line per row under the name the model writes it:
    what we wrote for the row, and the row as the source prints it (our value where grounding agreed,
    the source's value at a mismatched cell, 「?」 where the source shows no number for it); then at most
    a few extraction findings that name the cells. Report-attributed findings are left out on purpose."""
    wanted = list(cells)
    wanted_set = set(wanted)
    rows: dict[str, dict[str, str]] = {}
    for path in wanted:
        field_ = _field_of(path, spec)
        if field_ is None or field_.key in rows:
            continue
        paths = field_.paths if field_.array else (path,)
        found = [get_cell(report, p) for p in paths]
        source = [_source_value(evidence.get(p), value) if p in wanted_set else _shown(value)
                  for p, value in zip(paths, found)]
        rows[field_.key] = {
            "name": field_.name,
            "found": _shown(found if field_.array else found[0]),
            "source": f"[{','.join(source)}]" if field_.array else source[0],
        }
    messages = list(
        dict.fromkeys(
            f.message
            for f in findings
            if f.attribution == "extraction" and f.rule not in GROUNDING_RULES and wanted_set & set(f.cells)
        )
    )[:MAX_FEEDBACK_MESSAGES]
    return render("repair.md.j2", rows=list(rows.values()), messages=messages)


def _source_value(evidence: Evidence | None, found: CellValue) -> str:
    if evidence is not None and evidence.status == "mismatch" and evidence.source_value is not None:
        return evidence.source_value
    return "?"


def _field_of(path: str, spec: SectionSpec | None) -> AnswerField | None:
    """The answer field holding ``path``: from ``spec`` when given, else from the section specs."""
    candidates = [spec] if spec is not None else [
        section2_spec("2021"), section2_spec("2019"), section3_spec(True), section3_spec(False), section4_spec(),
    ]
    for candidate in candidates:
        for f in candidate.fields:
            if path in f.paths:
                return f
    return None


def _shown(value: Any) -> str:
    """A row or cell as the model wrote it: compact JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class RepairOutcome:
    report: Report
    rounds: int = 0
    reasked_units: list[str] = field(default_factory=list)
    accepted: dict[str, CellValue] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    evidence: dict[str, Evidence] = field(default_factory=dict)


def repair_loop(
    report: Report,
    source: NormalizedText,
    layout: DocumentLayout,
    asker: SectionAsker,
    specs: list[SectionSpec],
    *,
    max_rounds: int,
    verify_fn: VerifyFn,
    producers: dict[str, str] | None = None,
    eligible: Callable[[str], bool] | None = None,
    reader_findings: list[Finding] | None = None,
) -> RepairOutcome:
    """Re-ask the rows with unsupported cells until grounding is happy, a round changes nothing, or
    ``max_rounds`` is spent. ``eligible`` limits which cells may be re-asked (hybrid: only the
    cells the template reader could not prove). Mutates and returns ``report``."""
    producers = producers if producers is not None else {}
    outcome = RepairOutcome(report=report)
    findings, evidence = verify_fn(report, source, layout, reader_findings=reader_findings, producers=producers)
    for _ in range(max(0, max_rounds)):
        bad = bad_cells(evidence, eligible)
        if not bad:
            break
        by_unit: dict[str, list[str]] = {}
        for path in bad:
            by_unit.setdefault(unit_of(path), []).append(path)
        answers: dict[str, CellValue] = {}
        for spec in specs:
            units = [u for u in spec.units if u in by_unit]
            if not units:
                continue
            cells = [p for u in units for p in by_unit[u]]
            sub = spec.subset(units)
            answers.update(asker.ask(sub, feedback_for(cells, report, evidence, findings, sub)))
            outcome.reasked_units.extend(units)
        outcome.rounds += 1
        if not answers:
            break
        accepted = _accept_better(report, answers, evidence, source, layout, verify_fn, producers, eligible)
        if not accepted:
            break
        for path, value in accepted.items():
            set_cell_safely(report, path, value)
            producers[path] = "llm"
        outcome.accepted.update(accepted)
        findings, evidence = verify_fn(report, source, layout, reader_findings=reader_findings, producers=producers)
    outcome.findings, outcome.evidence = findings, evidence
    return outcome


def _accept_better(
    report: Report,
    answers: dict[str, CellValue],
    evidence: dict[str, Evidence],
    source: NormalizedText,
    layout: DocumentLayout,
    verify_fn: VerifyFn,
    producers: dict[str, str],
    eligible: Callable[[str], bool] | None,
) -> dict[str, CellValue]:
    """The re-asked values that grounding rates higher than the values they would replace."""
    changed = {p: v for p, v in answers.items() if v != get_cell(report, p) and (eligible is None or eligible(p))}
    if not changed:
        return {}
    candidate = report.model_copy(deep=True)
    for path, value in changed.items():
        set_cell_safely(candidate, path, value)
    _, new_evidence = verify_fn(candidate, source, layout, producers={**producers, **{p: "llm" for p in changed}})
    return {p: v for p, v in changed.items() if status_rank(new_evidence.get(p)) > status_rank(evidence.get(p))}
