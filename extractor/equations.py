"""The template's arithmetic (template.md §7: R3.1, R3.2, R3.3, R4.1) as data: one list of equations
that the checker evaluates and the review UI shows for a cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from extractor.findings import Authority
from extractor.schema import Report, get_cell
from extractor.template_spec import (
    ALL_APPLICATION_LABELS,
    APPLICANT_COLUMNS,
    OTHER_ROWS_2019,
    OTHER_ROWS_2021,
    OUTCOME_ROWS_COMMON,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    TOTAL_COL,
)


# A failed one of these names every operand: "one of these cells is off", not "this cell is off".
EQUATION_RULES: frozenset[str] = frozenset({"R3.1", "R3.2", "R3.3", "R4.1"})


@dataclass(frozen=True)
class Equation:
    rule: str
    authority: Authority
    title: str  # the rule in general, for the UI
    message: str  # this instance (column, row or group), for a finding
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    target: str  # the cell whose expected value a failed equation reports
    # "row": every cell stands in one printed row (R3.3, R4.1: the target after its parts); "table": across rows
    scope: Literal["row", "table"] = "table"

    @property
    def cells(self) -> tuple[str, ...]:
        return self.lhs + self.rhs

    def sides(self, report: Report) -> tuple[int, int]:
        """Both sides with the report's current values; a blank cell counts as 0 (template.md §7.4)."""
        return _sum(report, self.lhs), _sum(report, self.rhs)

    def holds(self, report: Report) -> bool:
        left, right = self.sides(report)
        return left == right


def _sum(report: Report, paths: tuple[str, ...]) -> int:
    return sum(v for p in paths if isinstance(v := get_cell(report, p), int))


def _row_name(key: str) -> str:
    return ALL_APPLICATION_LABELS.get(key, key).split(" ")[-1]


def application_equations(row_keys: Sequence[str], printed_rows: Sequence[str] | None = None) -> list[Equation]:
    """R3.1 and R3.2 over the rows of table 三 that the layout has (``row_keys``, print order), and R3.3 for
    each row that is printed (``printed_rows``, default all)."""
    out: list[Equation] = []
    other = [k for k in OTHER_ROWS_2019 + OTHER_ROWS_2021 if k in row_keys]
    outcome_rows = [k for k in OUTCOME_ROWS_COMMON if k in row_keys] + other
    for c, col in enumerate(APPLICANT_COLUMNS):
        out.append(Equation(
            "R3.1", "official", "勾稽关系：第一项加第二项之和，等于第三项加第四项之和",
            f"勾稽关系（{col}）：一、本年新收 + 二、上年结转 应等于 （七）总计 + 四、结转下年度继续办理",
            (f"applications.new_received[{c}]", f"applications.carried_over[{c}]"),
            (f"applications.total[{c}]", f"applications.carried_forward[{c}]"),
            f"applications.total[{c}]"))
        out.append(Equation(
            "R3.2", "derived", "（七）总计 等于各项办理结果之和",
            f"（七）总计（{col}）应等于（一）至（六）各项办理结果之和",
            (f"applications.total[{c}]",), tuple(f"applications.{k}[{c}]" for k in outcome_rows),
            f"applications.total[{c}]"))
    for key in row_keys if printed_rows is None else printed_rows:
        out.append(Equation(
            "R3.3", "derived", "总计 等于各类申请人之和",
            f"{_row_name(key)}：总计 应等于 自然人 与 法人或其他组织 各列之和",
            (f"applications.{key}[{TOTAL_COL}]",), tuple(f"applications.{key}[{c}]" for c in range(TOTAL_COL)),
            f"applications.{key}[{TOTAL_COL}]", scope="row"))
    return out


def review_equations() -> list[Equation]:
    """R4.1 for each group of table 四 (all fifteen cells stand in one printed row)."""
    out: list[Equation] = []
    for gkey, glabel in REVIEW_GROUPS:
        total = f"review_litigation.{gkey}.total"
        out.append(Equation(
            "R4.1", "derived", "总计 等于结果维持、结果纠正、其他结果、尚未审结之和",
            f"{glabel}：总计 应等于 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
            (total,), tuple(f"review_litigation.{gkey}.{c}" for c, _ in REVIEW_COLUMNS[:4]), total, scope="row"))
    return out


def report_equations(report: Report) -> list[Equation]:
    """Every arithmetic equation the report's printed layout takes part in, in rule order."""
    out: list[Equation] = []
    apps = report.applications
    if apps:
        out += application_equations(list(apps), [k for k, row in apps.items() if row is not None])
    if report.review_litigation is not None:
        out += review_equations()
    return out
