"""The arithmetic rules a cell takes part in, for the reviewer's "why is this cell flagged" panel.

The checker (``extractor.verify``) decides what is wrong; this module only shows the equations of
template.md §7 that contain a given cell, with the report's current numbers filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

from extractor.schema import CellValue, Report, get_cell
from extractor.template_spec import (
    OTHER_ROWS_2019,
    OTHER_ROWS_2021,
    OUTCOME_ROWS_COMMON,
    REVIEW_COLUMNS,
    TOTAL_COL,
    cell_label,
)

ARITHMETIC_RULES: tuple[str, ...] = ("R3.1", "R3.2", "R3.3", "R4.1")


@dataclass(frozen=True)
class Equation:
    rule: str
    title: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]

    def sides(self, report: Report) -> tuple[int, int]:
        return _sum(report, self.lhs), _sum(report, self.rhs)

    def holds(self, report: Report) -> bool:
        left, right = self.sides(report)
        return left == right

    @property
    def cells(self) -> tuple[str, ...]:
        return self.lhs + self.rhs


def _num(value: CellValue) -> int:
    # the rules read a blank cell as 0 (template.md §7.4)
    return value if isinstance(value, int) else 0


def _sum(report: Report, paths: tuple[str, ...]) -> int:
    return sum(_num(get_cell(report, p)) for p in paths)


def _outcome_rows(report: Report) -> tuple[str, ...]:
    other = OTHER_ROWS_2019 if report.single_other_row else OTHER_ROWS_2021
    return OUTCOME_ROWS_COMMON + other


def equations_for(report: Report, path: str) -> list[Equation]:
    """Every rule equation of template.md §7 that ``path`` enters, in rule order."""
    out: list[Equation] = []
    if path.startswith("applications."):
        key = path[len("applications."):].split("[")[0]
        col = int(path.split("[")[1].rstrip("]"))
        a = lambda row, c: f"applications.{row}[{c}]"  # noqa: E731
        if key in ("new_received", "carried_over", "total", "carried_forward"):
            out.append(Equation("R3.1", "勾稽关系：第一项加第二项之和，等于第三项加第四项之和",
                                (a("new_received", col), a("carried_over", col)),
                                (a("total", col), a("carried_forward", col))))
        outcomes = _outcome_rows(report)
        if key in outcomes or key == "total":
            out.append(Equation("R3.2", "（七）总计 等于各项办理结果之和",
                                (a("total", col),), tuple(a(r, col) for r in outcomes)))
        out.append(Equation("R3.3", "总计 等于各类申请人之和",
                            (a(key, TOTAL_COL),), tuple(a(key, c) for c in range(TOTAL_COL))))
    elif path.startswith("review_litigation."):
        group = path.split(".")[1]
        parts = tuple(f"review_litigation.{group}.{c}" for c, _ in REVIEW_COLUMNS if c != "total")
        out.append(Equation("R4.1", "总计 等于结果维持、结果纠正、其他结果、尚未审结之和",
                            (f"review_litigation.{group}.total",), parts))
    return out


def equations_for_finding(report: Report, rule: str, cells: list[str]) -> list[Equation]:
    """The equations of ``rule`` that involve the finding's cells (one per column / row / group)."""
    seen: dict[tuple[str, ...], Equation] = {}
    for path in cells:
        for eq in equations_for(report, path):
            if eq.rule == rule and set(cells) & set(eq.cells):
                seen.setdefault(eq.cells, eq)
    return list(seen.values())


def format_equation(eq: Equation, report: Report, focus: str | None = None) -> str:
    """One line of plain text: labels, then the numbers, then whether it holds. Zero terms are counted,
    not listed, so a 20-term outcome sum stays readable."""
    def term(p: str) -> str:
        label = cell_label(p)
        return f"【{label}】" if p == focus else label

    def values(paths: tuple[str, ...]) -> str:
        shown = [str(get_cell(report, p)) for p in paths if _num(get_cell(report, p)) != 0 or p == focus]
        zeros = len(paths) - len(shown)
        text = " + ".join(v if v != "None" else "空" for v in shown) or "0"
        return text + (f"（另 {zeros} 项为 0 或空）" if zeros and len(paths) > 1 else "")

    left, right = eq.sides(report)
    verdict = "成立 ✓" if left == right else f"不成立 ✗（左边 {left}，右边 {right}）"
    labels = " + ".join(term(p) for p in eq.lhs) + " = " + " + ".join(term(p) for p in eq.rhs)
    if len(eq.rhs) > 8:
        labels = " + ".join(term(p) for p in eq.lhs) + f" = 各项之和（{len(eq.rhs)} 项" + (
            f"，含【{cell_label(focus)}】" if focus in eq.rhs else "") + "）"
    return f"{eq.rule} {eq.title}：{labels}；数值：{values(eq.lhs)} = {values(eq.rhs)}；{verdict}"
