"""Agencies that print nothing for 0, cell by cell (template.md: "Blank cells are common"): where such a
blank leaves no trace (glued crawls, layout text, one cell per line), how many blanks a row has is not
known, so fewer blanks is a preference, never proof.

Generated reports with a share of their zero cells left blank one by one (``generate(blank_zeros=…)``).
"""

from __future__ import annotations

from evals.synth.corpus import check
from evals.synth.generate import generate
from extractor.schema import get_cell, iter_cells


def test_the_generator_leaves_single_zero_cells_blank_and_keeps_the_equations() -> None:
    synth = generate(1000, blank_zeros=0.3)
    plain = generate(1000)
    cells = dict(iter_cells(synth.report))
    blanked = [p for p, v in iter_cells(plain.report) if v in (0, "0") and cells.get(p) is None]
    assert len(blanked) > 20
    # rows keep their printed numbers: only zeros became blanks (a blank counts as 0 in every equation)
    assert all(get_cell(synth.report, p) == v for p, v in iter_cells(plain.report) if v not in (0, "0"))


def test_a_row_that_keeps_its_sum_with_blanks_is_not_read_as_the_agencys_slip() -> None:
    # seed 1000: 「（二）部分公开370037」 is 37/0/0/□/0/□/37; 3/7/0/0/0/3/7 prints every cell but breaks the
    # row's sum. Fewer blanks must not win: the cells are undecided, and the agency is not blamed.
    result = check(generate(1000, blank_zeros=0.3), "glued")
    assert result.status == "ok"
    assert not any(p.startswith("applications.partially_granted") for p in result.silent), result.silent
    assert not result.false_blame, result.false_blame


def test_a_lone_number_in_a_row_without_equations_may_stand_beside_blanks() -> None:
    # seed 1021, layout text: 「行政事业性收费      25」 is □/25, not 2/5 (the row has no equation to weigh a
    # blank against a cut)
    for style in ("layout", "cell_per_line"):
        result = check(generate(1021, blank_zeros=0.3), style)
        assert result.status == "ok"
        assert not result.silent, (style, result.silent)


def test_consistent_glued_reports_with_blank_cells_are_never_blamed() -> None:
    for seed in range(1000, 1030):
        result = check(generate(seed, consistent=True, blank_zeros=0.3), "glued")
        assert result.status == "ok", seed
        assert not result.false_blame, (seed, result.false_blame)


def test_a_structured_row_of_fewer_empty_cells_than_columns_lost_one() -> None:
    # seed 1044, floated markdown: 「| 政府集中采购 |  |」 under 采购项目数量 | 采购总金额, its 4 floated above the
    # table: one cell is lost (unknown), not both blank
    result = check(generate(1044, blank_zeros=0.3), "markdown_floated")
    assert result.status == "ok"
    assert not result.silent, result.silent
