"""The promise, checked on generated reports: every cell is right or flagged, and the report is blamed
exactly when its own printed numbers are inconsistent.

``check`` reads one synthetic report in one form with one engine and says what broke the promise:
- a **silent wrong** cell: differs from the truth (blank and 0 alike) and nothing flags it;
- a **false blame**: the truth is consistent, yet a finding attributes an arithmetic, domain, text or
  plausibility rule to the report;
- a **missed blame**: the truth breaks an equation, yet no finding names the broken cell (neither as the
  report's error nor as our doubt).
Flagged cells that are right are counted too: the reviewer's time the honesty costs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from evals.scoring import compare_cells
from evals.synth.flatten import render
from evals.synth.generate import Synthetic, generate
from extractor.config import RunConfig
from extractor.engine_catalog import EngineName
from extractor.equations import EQUATION_RULES
from extractor.findings import Finding, doubted_cells
from extractor.pipeline import extract_document
from extractor.rules import NUMBER_RULE_IDS


@dataclass
class CaseResult:
    seed: int
    style: str
    engine: str
    consistent: bool
    status: str
    cells: int = 0
    wrong: int = 0
    silent: list[str] = field(default_factory=list)
    flagged_right: int = 0
    false_blame: list[str] = field(default_factory=list)  # messages of findings that wrongly blame the report
    missed_blame: bool = False
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and not self.silent and not self.false_blame and not self.missed_blame


def _blames(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.attribution == "report" and f.rule in NUMBER_RULE_IDS
            and f.severity in ("error", "warning")]


def check(synth: Synthetic, style: str, engine: EngineName = "template", config: RunConfig | None = None) -> CaseResult:
    config = config or RunConfig(engine=engine)
    out = CaseResult(synth.seed, style, engine, synth.consistent, status="ok")
    t0 = time.perf_counter()
    try:
        doc = render(synth, style)
        result = extract_document(doc, config)
    except Exception as exc:  # a crash is a broken promise too: record it, keep going
        out.status, out.error = "crashed", f"{type(exc).__name__}: {exc}"
        out.seconds = time.perf_counter() - t0
        return out
    out.seconds = time.perf_counter() - t0
    out.status = result.status
    if result.status != "ok":
        out.error = result.error
        return out
    # as the eval counts flags: a failed equation blamed on the extraction flags its doubted operands
    # (grounding's), not every operand
    flagged = doubted_cells(result.findings, result.evidence, skip_rules=EQUATION_RULES)
    for cmp in compare_cells(synth.report, result.report):
        out.cells += 1
        if not cmp.equal:
            out.wrong += 1
            if cmp.path not in flagged:
                out.silent.append(cmp.path)
        elif cmp.path in flagged:
            out.flagged_right += 1
    blames = _blames(result.findings)
    if synth.consistent:
        out.false_blame = [f"{f.rule}: {f.message}" for f in blames]
    else:
        named = {c for f in result.findings if f.severity in ("error", "warning") for c in f.cells} | flagged
        out.missed_blame = synth.broken not in named
    return out


@dataclass
class StyleSummary:
    style: str
    reports: int = 0
    failed: int = 0
    cells: int = 0
    wrong: int = 0
    silent: int = 0
    flagged_right: int = 0
    false_blame: int = 0
    missed_blame: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)  # "seed path" of silent wrong cells, for a look

    def add(self, r: CaseResult) -> None:
        self.reports += 1
        self.failed += r.status != "ok"
        self.cells += r.cells
        self.wrong += r.wrong
        self.silent += len(r.silent)
        self.flagged_right += r.flagged_right
        self.false_blame += bool(r.false_blame)
        self.missed_blame += r.missed_blame
        self.seconds += r.seconds
        problems = [f"{r.seed} {p}" for p in r.silent] + [f"{r.seed} blame: {m}" for m in r.false_blame[:1]]
        if r.missed_blame:
            problems.append(f"{r.seed} missed blame")
        if r.status != "ok":
            problems.append(f"{r.seed} {r.status}: {r.error}")
        self.examples += problems[: max(0, 5 - len(self.examples))]


def run_corpus(seeds: Iterable[int], styles: Iterable[str], engine: EngineName = "template",
               config: RunConfig | None = None, blank_zeros: float = 0.0) -> dict[str, StyleSummary]:
    styles = list(styles)
    summary = {s: StyleSummary(s) for s in styles}
    for seed in seeds:
        synth = generate(seed, blank_zeros=blank_zeros)
        for style in styles:
            summary[style].add(check(synth, style, engine, config))
    return summary
