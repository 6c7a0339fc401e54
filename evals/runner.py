"""Run engines over a dataset and gather the scores into one typed record (``EvalRun``), JSON-ready.

Every read goes through ``extractor.pipeline`` exactly as the CLI's does. A sample whose source cannot
be loaded, or whose read raises, is recorded as failed and the run goes on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from extractor.config import RunConfig
from extractor.engine_catalog import EngineName
from extractor.findings import Evidence, Finding
from extractor.ingest import SourceDocument, load_path
from extractor.pipeline import extract_document, extract_text, recheck
from extractor.result import ExtractionResult
from extractor.schema import Report
from extractor.template_spec import cell_label

from evals import mutations as mut
from evals.dataset import Dataset, Sample
from evals.scoring import (
    SECTIONS,
    AttributionCheck,
    Cost,
    FlagCounts,
    ReportScore,
    RuleKey,
    Tally,
    attribution_checks,
    cost_from_meta,
    flag_counts,
    flagged_cells,
    gold_rule_keys,
    mean,
    score_report,
    usage_by_section,
)
from evals.summary import EngineSummary, EvalCounts, FailedSample, JsonRecord

MUTATION_ENGINE: EngineName = "template"

# (description of the step just finished or started, steps to advance)
ProgressFn = Callable[[str, int], None]


@dataclass
class EvalOptions:
    engines: list[EngineName] = field(default_factory=lambda: ["template"])
    model: str | None = None
    mutations: int = 3
    seed: int = 0

    def config_for(self, engine: EngineName) -> RunConfig:
        if self.model:
            return RunConfig(engine=engine, model=self.model)
        return RunConfig(engine=engine)


def total_steps(dataset: Dataset, options: EvalOptions) -> int:
    """Progress steps: one per (engine, sample) read, plus one per sample for its mutations."""
    per_sample = len(options.engines) + (1 if options.mutations > 0 else 0)
    return len(dataset.samples) * per_sample


def _err(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class SampleContext:
    """What every engine's score of one sample shares: its source text and the gold's own check."""

    sample: Sample
    doc: SourceDocument | None = None
    load_error: str | None = None
    gold_findings: list[Finding] | None = None
    gold_evidence: dict[str, Evidence] | None = None
    gold_check_error: str | None = None

    @property
    def gold_keys(self) -> set[RuleKey] | None:
        return None if self.gold_findings is None else gold_rule_keys(self.gold_findings)


def prepare_sample(sample: Sample) -> SampleContext:
    ctx = SampleContext(sample)
    try:
        ctx.doc = load_path(sample.source)
    except Exception as exc:  # a source we cannot read fails this sample for every engine
        ctx.load_error = _err(exc)
        return ctx
    try:
        ctx.gold_findings, ctx.gold_evidence = recheck(sample.gold, ctx.doc.text)
    except Exception as exc:
        ctx.gold_check_error = _err(exc)
    return ctx


@dataclass
class ReportRecord:
    engine: str
    sample: str
    source: str
    status: str
    error: str | None
    score: ReportScore
    flags: FlagCounts | None
    false_flags: list[str]
    flagged: set[str]
    attribution: list[AttributionCheck] | None
    cost: Cost
    agency_pred: str | None
    flags_with_equations: FlagCounts | None = None  # flags counting every operand of a doubted equation

    @property
    def failed(self) -> bool:
        return self.score.failed

    def to_dict(self) -> dict[str, Any]:
        s = self.score
        return {
            "engine": self.engine, "sample": self.sample, "source": self.source,
            "status": self.status, "error": self.error,
            "cell_accuracy": s.cells.rate(), "cells": s.cells.total, "cells_correct": s.cells.correct,
            "cell_accuracy_by_section": {sec: s.by_section[sec].rate() for sec in SECTIONS},
            "nonzero_accuracy": s.nonzero.rate(), "nonzero_cells": s.nonzero.total,
            "false_nonzero": s.false_nonzero, "exact": s.exact,
            "agency": self.agency_pred, "agency_exact": s.agency_exact, "agency_alias": s.agency_alias,
            "year_ok": s.year_ok, "template_ok": s.template_ok,
            "flag_recall": self.flags.recall if self.flags else None,
            "flag_precision": self.flags.precision if self.flags else None,
            "flag_counts": vars(self.flags) if self.flags else None,
            "flag_counts_with_equations": vars(self.flags_with_equations) if self.flags_with_equations else None,
            "attribution": None if self.attribution is None else {
                "checked": len(self.attribution), "correct": sum(a.correct for a in self.attribution),
                "wrong": [vars(a) | {"cells": list(a.cells)} for a in self.attribution if not a.correct],
            },
            "wrong_cells": [] if s.failed else [
                {"path": c.path, "label": _label(c.path), "gold": c.gold, "pred": c.pred, "flagged": c.path in self.flagged}
                for c in s.wrong
            ],
            "false_flags": self.false_flags,
            "seconds": self.cost.seconds, "tokens_in": self.cost.tokens_in,
            "tokens_out": self.cost.tokens_out, "retries": self.cost.retries,
            "llm_calls": self.cost.calls, "cache_hits": self.cost.cache_hits,
            "tokens_by_section": {kind: dict(figures) for kind, figures in self.cost.by_section.items()},
        }


def _label(path: str) -> str:
    try:
        return cell_label(path)
    except Exception:  # a label is a courtesy; an odd path keeps its canonical name
        return path


def score_result(engine: str, ctx: SampleContext, result: ExtractionResult | None, error: str | None, wall: float) -> ReportRecord:
    sample = ctx.sample
    ok = result is not None and result.status == "ok"
    pred: Report | None = result.report if ok and result is not None else None
    score = score_report(sample.gold, pred)
    flags = flags_eq = None
    false_flags: list[str] = []
    flagged: set[str] = set()
    attribution = None
    if ok and result is not None:
        flagged = flagged_cells(result.findings, result.evidence)
        flags = flag_counts(score.comparisons, flagged)
        flags_eq = flag_counts(score.comparisons, flagged_cells(result.findings, result.evidence, with_equations=True))
        false_flags = [c.path for c in score.comparisons if c.equal and c.path in flagged]
        keys = ctx.gold_keys
        if keys is not None:
            attribution = attribution_checks(result.findings, keys)
    status = "exception" if result is None else result.status
    if result is not None and result.error and not error:
        error = result.error
    cost = cost_from_meta(result.meta if result is not None else {}, wall)
    agency = result.report.agency if result is not None else None
    return ReportRecord(engine, sample.name, sample.source.name, status, error, score, flags, false_flags,
                        flagged, attribution, cost, agency, flags_eq)


def read_sample(engine: str, ctx: SampleContext, config: RunConfig) -> ReportRecord:
    if ctx.doc is None:
        return score_result(engine, ctx, None, ctx.load_error or "source not loaded", 0.0)
    t0 = time.perf_counter()
    try:
        result = extract_document(ctx.doc, config)
    except Exception as exc:  # record and go on: one bad report never stops the evaluation
        return score_result(engine, ctx, None, _err(exc), time.perf_counter() - t0)
    return score_result(engine, ctx, result, None, time.perf_counter() - t0)


def mutate_sample(ctx: SampleContext, n: int, seed: int) -> list[mut.MutationOutcome]:
    if ctx.doc is None or ctx.gold_evidence is None or n <= 0:
        return []
    text = ctx.doc.text
    rng = random.Random(f"{seed}:{ctx.sample.name}")
    plan = mut.plan_mutations(ctx.sample.gold, ctx.gold_evidence, text, n, rng)
    config = RunConfig(engine=MUTATION_ENGINE)

    def read_text(mutated: str) -> tuple[Report, list[Finding]]:
        result = extract_text(mutated, config, name=ctx.sample.name)
        return result.report, result.findings

    return [mut.run_mutation(ctx.sample.name, text, ctx.sample.gold, m, read_text, recheck) for m in plan]


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def aggregate(engine: str, records: list[ReportRecord], mutation_summary: mut.MutationSummary | None) -> EngineSummary:
    cells, nonzero = Tally(), Tally()
    by_section = {s: Tally() for s in SECTIONS}
    flags, flags_eq = FlagCounts(), FlagCounts()
    attribution = Tally()
    false_nonzero = gold_zero = 0
    for r in records:
        cells.merge(r.score.cells)
        nonzero.merge(r.score.nonzero)
        for sec in SECTIONS:
            by_section[sec].merge(r.score.by_section[sec])
        false_nonzero += r.score.false_nonzero
        gold_zero += r.score.gold_zero_cells
        if r.flags is not None:
            flags.merge(r.flags)
        if r.flags_with_equations is not None:
            flags_eq.merge(r.flags_with_equations)
        for a in r.attribution or []:
            attribution.add(a.correct)
    n = len(records)
    retries = [r.cost.retries for r in records if r.cost.retries is not None]
    read_any = any(r.flags is not None for r in records)
    return EngineSummary(
        reports=n,
        cell_accuracy=cells.rate(),
        nonzero_accuracy=nonzero.rate(),
        false_nonzero=false_nonzero,
        reports_exact=sum(r.score.exact for r in records),
        flag_recall=flags.recall if read_any else None,
        flag_precision=flags.precision,
        seconds_per_report=mean(r.cost.seconds for r in records),
        cell_accuracy_by_section={sec: t.rate() for sec, t in by_section.items()},
        flag_recall_with_equations=flags_eq.recall if read_any else None,
        flag_precision_with_equations=flags_eq.precision,
        false_nonzero_rate=_rate(false_nonzero, gold_zero),
        reports_failed=sum(r.failed for r in records),
        failed_samples=[FailedSample(r.sample, r.status, r.error) for r in records if r.failed],
        agency_accuracy=_rate(sum(r.score.agency_exact for r in records), n),
        agency_alias_accuracy=_rate(sum(r.score.agency_alias for r in records), n),
        year_accuracy=_rate(sum(r.score.year_ok for r in records), n),
        template_accuracy=_rate(sum(r.score.template_ok for r in records), n),
        attribution_accuracy=attribution.rate(),
        mutation_detection=mutation_summary.detection_rate if mutation_summary and engine == MUTATION_ENGINE else None,
        hallucination_detection=mutation_summary.hallucination_rate if mutation_summary else None,
        tokens_in_per_report=mean(r.cost.tokens_in for r in records),
        tokens_out_per_report=mean(r.cost.tokens_out for r in records),
        retries=sum(retries) if retries else None,
        retries_per_report=mean(r.cost.retries for r in records),
        llm_calls_per_report=mean(r.cost.calls for r in records),
        cache_hits=_sum_present(r.cost.cache_hits for r in records),
        tokens_by_section=usage_by_section(r.cost for r in records),
        counts=EvalCounts(
            cells=cells.total, cells_correct=cells.correct,
            nonzero_cells=nonzero.total, nonzero_correct=nonzero.correct, gold_zero_cells=gold_zero,
            wrong_cells_checked=flags.wrong, flagged=flags.flagged, flagged_wrong=flags.flagged_wrong,
            attribution_checked=attribution.total, attribution_correct=attribution.correct,
        ),
    )


def _sum_present(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


@dataclass(frozen=True, eq=False)
class EvalRun(JsonRecord):
    """A whole evaluation: what ``nianbao eval --json`` writes (``to_dict``), keys in this order."""

    samples: list[str]
    interrupted: bool
    options: EvalOptions
    load_problems: list[dict[str, Any]]
    gold_check_errors: dict[str, str]
    engines: dict[str, EngineSummary]
    checker: dict[str, Any]  # the mutation test: evals.mutations.MutationSummary.to_dict() and each outcome
    per_report: list[dict[str, Any]]  # ReportRecord.to_dict() of every read


def run_eval(dataset: Dataset, options: EvalOptions, progress: ProgressFn | None = None) -> EvalRun:
    def tick(description: str, advance: int = 1) -> None:
        if progress is not None:
            progress(description, advance)

    contexts = []
    for sample in dataset.samples:
        tick(f"gold {sample.name}", 0)
        contexts.append(prepare_sample(sample))

    records: dict[str, list[ReportRecord]] = {e: [] for e in options.engines}
    outcomes: list[mut.MutationOutcome] = []
    interrupted = False
    try:
        for engine in options.engines:
            config = options.config_for(engine)
            for ctx in contexts:
                tick(f"{engine} · {ctx.sample.name}", 0)
                records[engine].append(read_sample(engine, ctx, config))
                tick(f"{engine} · {ctx.sample.name}", 1)
        if options.mutations > 0:
            for ctx in contexts:
                tick(f"mutations · {ctx.sample.name}", 0)
                outcomes.extend(mutate_sample(ctx, options.mutations, options.seed))
                tick(f"mutations · {ctx.sample.name}", 1)
    except KeyboardInterrupt:
        # Ctrl-C on a long LLM run keeps the reports already scored: the figures cover those only.
        interrupted = True
    summary = mut.summarize(outcomes) if options.mutations > 0 else None

    return EvalRun(
        samples=[c.sample.name for c in contexts],
        interrupted=interrupted,
        options=options,
        load_problems=[p.to_dict() for p in dataset.problems],
        gold_check_errors={c.sample.name: c.gold_check_error for c in contexts if c.gold_check_error},
        engines={e: aggregate(e, records[e], summary) for e in options.engines},
        checker={
            "mutation_engine": MUTATION_ENGINE,
            **(summary.to_dict() if summary else {}),
            "outcomes": [o.to_dict() for o in outcomes],
        },
        per_report=[r.to_dict() for e in options.engines for r in records[e]],
    )
