"""The checker-driven repair loop: re-ask the model only the rows whose numbers the source does not support.

After an LLM extraction, grounding and the checker judge every cell. A cell whose evidence is
``mismatch`` or ``unsupported`` is our own misreading, so its row (a 三 row, a 二 row, a 四 group) is
asked again with the problems as feedback, at most ``max_rounds`` times. A re-asked value replaces the
old one only when grounding likes it better. Findings that the checker attributes to the report itself
(grounded numbers that do not add up) are never sent back: the report printed them, and "repairing"
them would make us lie about the source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from extractor.findings import Evidence, Finding
from extractor.llm_sections import SectionSpec, section4_spec, set_cell_safely, unit_of
from extractor.normalize import NormalizedText
from extractor.prompting import render
from extractor.schema import CellValue, Report, get_cell
from extractor.sections import DocumentLayout
from extractor.template_spec import cell_label

BAD_STATUSES = frozenset({"mismatch", "unsupported"})
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
    cells: Iterable[str], report: Report, evidence: dict[str, Evidence], findings: list[Finding]
) -> str:
    """The repair prompt block for these cells: what we wrote, what the source holds there, and the
    extraction findings that name them. Report-attributed findings are left out on purpose."""
    wanted = list(cells)
    wanted_set = set(wanted)
    problems: list[dict[str, Any]] = []
    for path in wanted:
        ev = evidence.get(path)
        problems.append(
            {
                "label": _feedback_label(path),
                "found": get_cell(report, path),
                "source": ev.source_value if ev is not None else None,
                "note": None if ev is None else ("原文中找不到这个数" if ev.status == "unsupported" else None),
            }
        )
    messages = list(
        dict.fromkeys(
            f.message for f in findings if f.attribution == "extraction" and wanted_set & set(f.cells)
        )
    )
    return render("repair.md.j2", problems=problems, messages=messages)


def _feedback_label(path: str) -> str:
    if path.startswith("review_litigation."):
        # table 四 is asked as 15 numbers in print order: name the position too
        position = section4_spec().paths.index(path) + 1
        return f"第 {position} 个数（{cell_label(path)}）"
    return cell_label(path)


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
            answers.update(asker.ask(sub, feedback_for(cells, report, evidence, findings)))
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
