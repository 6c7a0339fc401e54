"""Pure scoring: compare a predicted report with its gold, and judge the checker's own flags.

Conventions (issue 4):
- cells are compared over the union of the cells that gold and prediction contain; a row or section
  that one side lacks counts as blank there, and a blank cell equals 0;
- a failed read (status failed / not_a_report / an exception) scores every gold cell as wrong, so
  that "could not read" never looks like "all zeros" on the many all-zero reports;
- decimal strings compare as decimals ("0" == "0.00"); unit text compares after stripping spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from extractor.equations import EQUATION_RULES
from extractor.findings import Evidence, Finding, doubted_cells
from extractor.rules import TEMPLATE_RULE_IDS
from extractor.schema import CellValue, Report, iter_cells

SECTIONS: tuple[str, ...] = ("二", "三", "四")
_SECTION_OF_PREFIX: dict[str, str] = {
    "active_disclosure": "二",
    "applications": "三",
    "review_litigation": "四",
}



def section_of(path: str) -> str:
    return _SECTION_OF_PREFIX.get(path.partition(".")[0], "?")


def normalize_value(value: CellValue) -> int | Decimal | str:
    """The value cells are compared by: blank is 0, decimal strings are decimals."""
    if value is None:
        return 0
    if isinstance(value, bool):  # never in a valid report; keep it from passing as 0/1
        return str(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return int(number) if number == number.to_integral_value() else number.normalize()


def cells_equal(gold: CellValue, pred: CellValue) -> bool:
    return normalize_value(gold) == normalize_value(pred)


def is_nonzero(value: CellValue) -> bool:
    normalized = normalize_value(value)
    return normalized != 0 and normalized != ""


def cell_map(report: Report) -> dict[str, CellValue]:
    return dict(iter_cells(report))


@dataclass(frozen=True)
class CellComparison:
    path: str
    gold: CellValue
    pred: CellValue
    equal: bool

    @property
    def section(self) -> str:
        return section_of(self.path)


def compare_cells(gold: Report, pred: Report | None) -> list[CellComparison]:
    """One comparison per cell of gold ∪ prediction, gold's print order first. ``pred=None`` is a
    failed read: every gold cell is wrong."""
    gold_cells = cell_map(gold)
    if pred is None:
        return [CellComparison(path, value, None, False) for path, value in gold_cells.items()]
    pred_cells = cell_map(pred)
    paths = list(gold_cells) + [p for p in pred_cells if p not in gold_cells]
    out = []
    for path in paths:
        g, p = gold_cells.get(path), pred_cells.get(path)
        out.append(CellComparison(path, g, p, cells_equal(g, p)))
    return out


def _clean_agency(name: str | None) -> str:
    return re.sub(r"\s+", "", name or "")


def agency_exact(gold: str | None, pred: str | None) -> bool:
    return _clean_agency(gold) == _clean_agency(pred)


def agency_alias(gold: str | None, pred: str | None) -> bool:
    """Exact, or one name contains the other (「洪泽区人民政府」 vs 「淮安市洪泽区人民政府」)."""
    g, p = _clean_agency(gold), _clean_agency(pred)
    if g == p:
        return True
    return bool(g) and bool(p) and (g in p or p in g)


@dataclass
class Tally:
    correct: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.correct += int(ok)

    def merge(self, other: Tally) -> None:
        self.correct += other.correct
        self.total += other.total

    def rate(self, empty: float | None = None) -> float | None:
        return self.correct / self.total if self.total else empty


@dataclass
class ReportScore:
    """How one predicted report compares with its gold."""

    failed: bool
    comparisons: list[CellComparison]
    cells: Tally = field(default_factory=Tally)
    by_section: dict[str, Tally] = field(default_factory=lambda: {s: Tally() for s in SECTIONS})
    nonzero: Tally = field(default_factory=Tally)
    false_nonzero: int = 0
    gold_zero_cells: int = 0
    agency_exact: bool = False
    agency_alias: bool = False
    year_ok: bool = False
    template_ok: bool = False

    @property
    def exact(self) -> bool:
        return not self.failed and self.cells.correct == self.cells.total

    @property
    def wrong(self) -> list[CellComparison]:
        return [c for c in self.comparisons if not c.equal]


def score_report(gold: Report, pred: Report | None) -> ReportScore:
    comparisons = compare_cells(gold, pred)
    score = ReportScore(failed=pred is None, comparisons=comparisons)
    for c in comparisons:
        score.cells.add(c.equal)
        score.by_section.setdefault(c.section, Tally()).add(c.equal)
        if is_nonzero(c.gold):
            score.nonzero.add(c.equal)
        else:
            score.gold_zero_cells += 1
            if is_nonzero(c.pred):
                score.false_nonzero += 1
    if pred is not None:
        score.agency_exact = agency_exact(gold.agency, pred.agency)
        score.agency_alias = agency_alias(gold.agency, pred.agency)
        score.year_ok = gold.year == pred.year
        score.template_ok = gold.template == pred.template
    return score


# ---- the checker's own quality


def flagged_cells(findings: Iterable[Finding], evidence: Mapping[str, Evidence], *,
                  with_equations: bool = False) -> set[str]:
    """Cells the checker doubts: grounding says mismatch/unsupported, or an extraction finding names the cell.

    A failed equation attributed to the extraction names all its operands; by default it flags none of
    them (its doubted operands are already flagged by grounding or by the reader). ``with_equations``
    counts every operand too: the wider net a reviewer sees as 「所在等式不成立」.
    """
    return doubted_cells(findings, evidence, skip_rules=frozenset() if with_equations else EQUATION_RULES)


@dataclass
class FlagCounts:
    wrong: int = 0
    flagged: int = 0
    flagged_wrong: int = 0

    def merge(self, other: FlagCounts) -> None:
        self.wrong += other.wrong
        self.flagged += other.flagged
        self.flagged_wrong += other.flagged_wrong

    @property
    def recall(self) -> float:
        """Of the wrong cells, the share flagged; 1.0 when nothing is wrong."""
        return self.flagged_wrong / self.wrong if self.wrong else 1.0

    @property
    def precision(self) -> float | None:
        """Of the flagged cells, the share wrong; undefined (None) when nothing is flagged."""
        return self.flagged_wrong / self.flagged if self.flagged else None


def flag_counts(comparisons: Iterable[CellComparison], flagged: set[str]) -> FlagCounts:
    """Counts over the cells of the comparison; flags on paths neither side has are ignored."""
    counts = FlagCounts()
    for c in comparisons:
        is_flagged = c.path in flagged
        counts.wrong += int(not c.equal)
        counts.flagged += int(is_flagged)
        counts.flagged_wrong += int(is_flagged and not c.equal)
    return counts


def is_rule_finding(finding: Finding) -> bool:
    """A checker rule that failed (R3.2, R4.1, R-T1 …), not a grounding or reader note."""
    return finding.rule in TEMPLATE_RULE_IDS and finding.severity != "info"


RuleKey = tuple[str, frozenset[str]]


def rule_key(finding: Finding) -> RuleKey:
    return (finding.rule, frozenset(finding.cells))


def gold_rule_keys(gold_findings: Iterable[Finding]) -> set[RuleKey]:
    """The rules that fail on the gold itself with every operand grounded in the source: any of them failing
    on a prediction is the report's error. A rule that fails on the gold only through values the text
    cannot prove (a glued run that cuts several ways) is our doubt, even read right."""
    return {rule_key(f) for f in gold_findings if is_rule_finding(f) and f.attribution == "report"}


@dataclass(frozen=True)
class AttributionCheck:
    rule: str
    cells: tuple[str, ...]
    expected: str
    actual: str

    @property
    def correct(self) -> bool:
        return self.expected == self.actual


def attribution_checks(findings: Iterable[Finding], gold_keys: set[RuleKey]) -> list[AttributionCheck]:
    out = []
    for f in findings:
        if not is_rule_finding(f):
            continue
        expected = "report" if rule_key(f) in gold_keys else "extraction"
        out.append(AttributionCheck(f.rule, tuple(f.cells), expected, f.attribution))
    return out


# ---- cost


def _first_number(mapping: Mapping[str, object], *keys: str) -> float | None:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


@dataclass(frozen=True)
class Cost:
    seconds: float | None
    tokens_in: float | None
    tokens_out: float | None
    retries: float | None
    # model calls made, and answers replayed from the LLM cache (their seconds are not the model's)
    calls: float | None = None
    cache_hits: float | None = None
    # the same figures per kind of call (header, section2, section3, section4, repair), where the
    # engine reports them: kind -> {"tokens_in", "tokens_out", "calls", "cache_hits", "seconds"}
    by_section: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def cost_from_meta(meta: Mapping[str, object], wall_seconds: float | None = None) -> Cost:
    """Seconds, tokens and retries of one read, from ``result.meta`` (``timings_s.total``, ``llm``)."""
    timings = meta.get("timings_s")
    seconds = _first_number(timings, "total") if isinstance(timings, Mapping) else None
    llm = meta.get("llm")
    llm = llm if isinstance(llm, Mapping) else {}
    sources: list[Mapping[str, object]] = [llm, meta]
    tokens_in = next((v for m in sources if (v := _first_number(m, "tokens_in", "prompt_tokens", "input_tokens")) is not None), None)
    tokens_out = next((v for m in sources if (v := _first_number(m, "tokens_out", "completion_tokens", "output_tokens")) is not None), None)
    retries = next((v for m in sources if (v := _first_number(m, "retries", "reasks", "attempts_retried")) is not None), None)
    calls = _first_number(llm, "calls")
    cache_hits = _first_number(llm, "cache_hits")
    raw_sections = llm.get("by_section")
    by_section: dict[str, dict[str, float]] = {}
    if isinstance(raw_sections, Mapping):
        for kind, figures in raw_sections.items():
            if isinstance(figures, Mapping):
                by_section[str(kind)] = {
                    k: float(v) for k, v in figures.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                }
    return Cost(seconds if seconds is not None else wall_seconds, tokens_in, tokens_out, retries, calls, cache_hits,
                by_section)


def usage_by_section(costs: Iterable[Cost]) -> dict[str, dict[str, float]]:
    """Mean figures per report for each kind of call, over the reports that reported token usage (a
    report that made no call of a kind counts 0 there), so the kinds add up to the per-report totals."""
    reporting = [c for c in costs if c.tokens_in is not None]
    totals: dict[str, dict[str, float]] = {}
    for cost in reporting:
        for kind, figures in cost.by_section.items():
            into = totals.setdefault(kind, {})
            for key, value in figures.items():
                into[key] = into.get(key, 0.0) + value
    n = len(reporting)
    return {kind: {key: value / n for key, value in figures.items()} for kind, figures in totals.items()} if n else {}


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
