"""The arithmetic rules a cell takes part in, for the reviewer's "why is this cell flagged" panel.

The checker (``extractor.verify``) decides what is wrong; this module only shows the equations of
template.md §7 that contain a given cell, with the report's current numbers filled in.
"""

from __future__ import annotations

from extractor.equations import EQUATION_RULES, Equation, report_equations
from extractor.schema import CellValue, Report, get_cell
from extractor.template_spec import cell_label

ARITHMETIC_RULES: tuple[str, ...] = tuple(sorted(EQUATION_RULES))


def _num(value: CellValue) -> int:
    # the rules read a blank cell as 0 (template.md §7.4)
    return value if isinstance(value, int) else 0


def equations_for(report: Report, path: str) -> list[Equation]:
    """Every rule equation of template.md §7 that ``path`` enters, in rule order (the checker's own list)."""
    return [eq for eq in report_equations(report) if path in eq.cells]


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
