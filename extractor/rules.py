"""Every rule the checker runs, in one table: rule id → check → authority → where template.md states it.

``extractor.verify`` runs ``REPORT_RULES`` on one report (``check_report``); the year-to-year rules need
the same agency's report of the year before and run through ``check_year_pair`` (batch, via
``year_checks.year_to_year``, and ``nianbao check --previous``). ``nianbao rules`` prints this table.

To add a rule: write its check beside the others of its kind (checker.py for arithmetic, domains, form
and grounding; prose.py; plausibility.py; year_checks.py), add one entry below, and name the rule in the
README's **Checker** bullet (tests/test_rule_registry.py fails until it does). The order below is the
order checks run in; ``verify`` then sorts findings by severity, attribution and rule id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from extractor.checker import (
    domain_findings,
    equation_findings,
    form_findings,
    mismatch_findings,
    undecided_split_findings,
    unsupported_findings,
)
from extractor.equations import Equation, report_equations
from extractor.findings import Authority, Evidence, Finding
from extractor.plausibility import check_fee_mentioned, check_item_stock, check_regulations_power
from extractor.prose import check_prose
from extractor.schema import CellValue, Report, iter_cells
from extractor.sections import DocumentLayout
from extractor.year_checks import YearReport, carry_over, stock

RuleKind = Literal["grounding", "equation", "domain", "form", "prose", "plausibility", "year"]


@dataclass(frozen=True)
class RuleInput:
    """What a single-report rule may read: the report, its evidence, the source's layout and text."""

    report: Report
    evidence: dict[str, Evidence]
    layout: DocumentLayout | None = None
    source_text: str | None = None

    @cached_property
    def values(self) -> dict[str, CellValue]:
        """Every cell of the report by path, in print order (computed once for all rules)."""
        return dict(iter_cells(self.report))

    @cached_property
    def equations(self) -> list[Equation]:
        return report_equations(self.report)


@dataclass(frozen=True)
class RuleInfo:
    """A rule as people read it: the README, ``nianbao rules``, the eval's notion of a checker rule."""

    id: str
    kind: RuleKind
    # The strongest authority its findings carry (official > derived > heuristic); R-F1's form checks
    # other than the year's format are derived, the rest of a rule's findings carry exactly this one.
    authority: Authority
    spec: str  # where it is stated: a section of template.md, or docs/grounding.md
    zh: str
    en: str


@dataclass(frozen=True)
class ReportRule(RuleInfo):
    check: Callable[[RuleInput], list[Finding]]
    # A failure blamed on the report is blamed on the extraction instead when the reader itself doubts
    # one of its operands: an equation over a cell we may have misread is no proof of the agency's error.
    reader_doubt_shifts_blame: bool = False


@dataclass(frozen=True)
class YearRule(RuleInfo):
    check: Callable[[YearReport, YearReport], list[Finding]]  # (earlier, later)


def _equation(rule: str) -> Callable[[RuleInput], list[Finding]]:
    return lambda i: equation_findings(rule, i.equations, i.values, i.evidence)


def _domain(rule: str) -> Callable[[RuleInput], list[Finding]]:
    return lambda i: domain_findings(rule, i.values, i.evidence)


_GROUNDING = "docs/grounding.md"

REPORT_RULES: tuple[ReportRule, ...] = (
    ReportRule("G1", "grounding", "derived", _GROUNDING,
               "原文此处印着另一个数（或空白），或原文印有的行、表在结果中缺失",
               "the source prints another value at the cell's place, or a row or table the report leaves out",
               lambda i: mismatch_findings(i.report, i.evidence, i.values)),
    ReportRule("G2", "grounding", "derived", _GROUNDING,
               "原文不能证实此数：找不到依据，或可有多种读法",
               "the source does not support the value: no reading gives it, or several readings fit",
               lambda i: unsupported_findings(i.report, i.evidence, i.values)),
    ReportRule("G3", "grounding", "derived", _GROUNDING,
               "连写的数字仅凭文本无法确定拆分，请对照原件",
               "glued digits leave cells undecided; the original file reads them exactly",
               lambda i: undecided_split_findings(i.evidence)),
    ReportRule("R2.1", "domain", "derived", "template.md §7.2",
               "表二各数应为数字，且不为负数（本年增/减可为负）",
               "table 二 figures are numbers, not negative (本年增/减 may be)",
               _domain("R2.1")),
    ReportRule("R3.1", "equation", "official", "template.md §7.1",
               "勾稽关系：本年新收 + 上年结转 = 总计 + 结转下年度继续办理（每列）",
               "new + carried over = total + carried forward, per column",
               _equation("R3.1"), reader_doubt_shifts_blame=True),
    ReportRule("R3.2", "equation", "derived", "template.md §7.2",
               "（七）总计 等于各项办理结果之和（每列）",
               "（七）总计 is the sum of the outcomes, per column",
               _equation("R3.2"), reader_doubt_shifts_blame=True),
    ReportRule("R3.3", "equation", "derived", "template.md §7.2",
               "总计 等于自然人与各类法人或其他组织之和（每行）",
               "总计 is the sum of the applicant columns, per row",
               _equation("R3.3"), reader_doubt_shifts_blame=True),
    ReportRule("R3.4", "domain", "derived", "template.md §7.2",
               "表三各数应为数字，且不为负数",
               "table 三 cells are numbers, not negative",
               _domain("R3.4"), reader_doubt_shifts_blame=True),
    ReportRule("R4.1", "equation", "derived", "template.md §7.2",
               "表四各组：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
               "table 四: each group's total is upheld + corrected + other + pending",
               _equation("R4.1"), reader_doubt_shifts_blame=True),
    ReportRule("R4.2", "domain", "derived", "template.md §7.2",
               "表四各数应为数字，且不为负数",
               "table 四 cells are numbers, not negative",
               _domain("R4.2"), reader_doubt_shifts_blame=True),
    ReportRule("R-F1", "form", "official", "template.md §7.3",
               "格式：年度应使用的表格版本、2021 年版的其他处理分项、六个章节标题",
               "form: the table version the year calls for, 2021's split 其他处理 row, the six section headings",
               lambda i: form_findings(i.report, i.layout)),
    ReportRule("R-T1", "prose", "heuristic", "template.md §7.3",
               "正文所述数字与表格一致",
               "figures the prose states agree with the table",
               lambda i: check_prose(i.report, i.evidence, i.layout)),
    ReportRule("R-Y3", "plausibility", "heuristic", "template.md §7.3",
               "2019 年版：上一年项目数量 + 本年增/减 不小于 0",
               "2019 format: previous items + this year's change is not below zero",
               lambda i: check_item_stock(i.report, i.evidence)),
    ReportRule("R-P1", "plausibility", "heuristic", "template.md §7.3",
               "乡镇/街道或县级机关没有规章制定权，不应填报规章",
               "a township, street or county-level body has no rule-making power: no 规章 of its own",
               lambda i: check_regulations_power(i.report, i.evidence)),
    ReportRule("R-P2", "plausibility", "heuristic", "template.md §7.3",
               "2021 年版：有逾期未缴费的申请，正文应提到信息处理费",
               "2021 format: an unpaid fee notice in table 三 implies the prose mentions the 信息处理费",
               lambda i: check_fee_mentioned(i.report, i.evidence, i.source_text)),
)

YEAR_RULES: tuple[YearRule, ...] = (
    YearRule("R-Y1", "year", "heuristic", "template.md §7.3",
             "本年「上年结转」等于上年度报告的「结转下年度继续办理」（每列）",
             "this year's carried over equals last year's carried forward, per column",
             carry_over),
    YearRule("R-Y2", "year", "heuristic", "template.md §7.3",
             "2021 年版：现行有效件数 ≈ 上年现行有效 + 本年制发 − 本年废止",
             "2021 format: in force ≈ last year's in force + issued − repealed",
             stock),
)

ALL_RULES: tuple[RuleInfo, ...] = REPORT_RULES + YEAR_RULES
RULES_BY_ID: dict[str, RuleInfo] = {rule.id: rule for rule in ALL_RULES}
# Rules of the template (template.md §7), as opposed to grounding's findings: what the eval scores as
# the checker's verdicts on a report.
TEMPLATE_RULE_IDS: frozenset[str] = frozenset(rule.id for rule in ALL_RULES if rule.kind != "grounding")
# Rules whose failure, attributed to the report, says the agency printed inconsistent or implausible
# numbers (the form rule R-F1 is about the document, not its numbers).
NUMBER_RULE_IDS: frozenset[str] = frozenset(rule.id for rule in ALL_RULES if rule.kind not in ("grounding", "form"))

assert len(RULES_BY_ID) == len(ALL_RULES), "a rule id is registered twice"


def check_report(rule_input: RuleInput) -> list[Finding]:
    """Every single-report rule's findings, rule by rule in table order."""
    return [finding for rule in REPORT_RULES for finding in rule.check(rule_input)]


def shifts_blame_on_reader_doubt(rule_id: str) -> bool:
    rule = RULES_BY_ID.get(rule_id)
    return isinstance(rule, ReportRule) and rule.reader_doubt_shifts_blame


def check_year_pair(earlier: YearReport, later: YearReport) -> list[Finding]:
    """The year-to-year rules on one agency's reports of two consecutive years (``later.year - 1 ==
    earlier.year``; the caller pairs them)."""
    return [finding for rule in YEAR_RULES for finding in rule.check(earlier, later)]
