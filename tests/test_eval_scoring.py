"""Scoring on small handmade gold/prediction pairs whose figures are worked out by hand here."""

from __future__ import annotations

import pytest

from extractor.findings import Evidence, Finding
from extractor.schema import Report, ReviewGroup, ReviewLitigation, empty_report, set_cell

from evals.scoring import (
    agency_alias,
    agency_exact,
    attribution_checks,
    cells_equal,
    compare_cells,
    cost_from_meta,
    flag_counts,
    flagged_cells,
    gold_rule_keys,
    score_report,
)


def review_only(review: ReviewGroup, direct: ReviewGroup | None = None, after: ReviewGroup | None = None) -> Report:
    """A toy report holding only section 四's rows given: 5 cells per row."""
    return Report(template="2021", review_litigation=ReviewLitigation(review=review, litigation_direct=direct, litigation_after_review=after))


def finding(rule: str, cells: list[str], attribution: str = "report", severity: str = "error") -> Finding:
    return Finding(rule=rule, authority="official", severity=severity, attribution=attribution, cells=cells, message="m")  # type: ignore[arg-type]


R = "review_litigation.review."


def test_five_cells_blank_equals_zero_and_false_nonzero() -> None:
    gold = review_only(ReviewGroup(upheld=2, corrected=None, other=0, pending=0, total=2))
    pred = review_only(ReviewGroup(upheld=2, corrected=0, other=1, pending=None, total=3))
    s = score_report(gold, pred)
    # upheld 2=2 ✓, corrected None=0 ✓, other 0≠1 ✗, pending 0=None ✓, total 2≠3 ✗
    assert (s.cells.correct, s.cells.total) == (3, 5)
    assert s.cells.rate() == pytest.approx(0.6)
    # gold non-zero: upheld, total; only upheld right
    assert (s.nonzero.correct, s.nonzero.total) == (1, 2)
    # gold zero/blank cells: corrected, other, pending; pred non-zero only on other
    assert (s.false_nonzero, s.gold_zero_cells) == (1, 3)
    assert not s.exact
    assert [c.path for c in s.wrong] == [R + "other", R + "total"]
    assert (s.by_section["四"].correct, s.by_section["四"].total) == (3, 5)
    assert s.by_section["三"].total == 0 and s.by_section["二"].total == 0


def test_missing_and_extra_rows_count_as_blank() -> None:
    gold = review_only(ReviewGroup(upheld=1, total=1), direct=ReviewGroup(upheld=0, corrected=0, other=0, pending=0, total=0),
                       after=ReviewGroup(upheld=0, corrected=0, other=1, pending=0, total=1))
    # the prediction lacks litigation_direct (all zeros in gold: 5 right) and litigation_after_review
    # (gold other=1,total=1: 2 wrong, 3 right); review is right
    pred = review_only(ReviewGroup(upheld=1, total=1))
    s = score_report(gold, pred)
    assert (s.cells.correct, s.cells.total) == (13, 15)
    assert (s.nonzero.correct, s.nonzero.total) == (2, 4)
    assert s.false_nonzero == 0

    # the reverse: a row gold lacks but the prediction fills is judged against blanks
    s2 = score_report(pred, gold)
    assert (s2.cells.correct, s2.cells.total) == (13, 15)
    assert s2.false_nonzero == 2 and s2.nonzero.total == 2


def test_an_all_zero_reader_scores_zero_on_nonzero_cells() -> None:
    gold = empty_report("2021")
    set_cell(gold, "applications.new_received[0]", 5)
    set_cell(gold, "applications.new_received[6]", 5)
    set_cell(gold, "active_disclosure.normative_documents.in_force", 17)
    zeros = empty_report("2021")
    for path in (c.path for c in compare_cells(gold, zeros)):
        if path.startswith(("applications", "review_litigation")) or path.endswith(("issued", "repealed", "in_force", "decisions")):
            set_cell(zeros, path, 0)
    s = score_report(gold, zeros)
    total_cells = len(compare_cells(gold, gold))
    assert total_cells == 200  # 2021 template: 10 cells in 二, 25 rows × 7 in 三, 3 × 5 in 四
    assert (s.nonzero.correct, s.nonzero.total) == (0, 3)
    assert (s.cells.correct, s.cells.total) == (197, 200)
    assert s.false_nonzero == 0


def test_failed_read_scores_every_gold_cell_wrong() -> None:
    gold = review_only(ReviewGroup(upheld=0, corrected=0, other=0, pending=0, total=0))
    s = score_report(gold, None)
    assert s.failed and not s.exact
    assert (s.cells.correct, s.cells.total) == (0, 5)
    assert not (s.agency_exact or s.year_ok or s.template_ok)


def test_exact_report_and_metadata() -> None:
    gold = review_only(ReviewGroup(upheld=1, total=1))
    gold.agency, gold.year = "淮安市洪泽区人民政府", 2024
    pred = review_only(ReviewGroup(upheld=1, corrected=0, total=1))
    pred.agency, pred.year = "洪泽区 人民政府", 2024
    s = score_report(gold, pred)
    assert s.exact
    assert s.year_ok and s.template_ok
    assert not s.agency_exact and s.agency_alias


def test_agency_and_value_equality_rules() -> None:
    assert agency_exact(" 上海市 科委\n", "上海市科委")
    assert not agency_exact("上海市科委", "上海市人民政府办公厅")
    assert agency_alias("洪泽区人民政府", "淮安市洪泽区人民政府")
    assert not agency_alias(None, "淮安市洪泽区人民政府")
    assert agency_exact(None, "  ") and agency_alias(None, None)
    assert cells_equal("0", None) and cells_equal("1.50", "1.5") and cells_equal(None, 0)
    assert not cells_equal("251000", "25.1") and not cells_equal(3, None)
    assert cells_equal("元", " 元") and not cells_equal("元", "万元")


def test_flag_recall_and_precision_on_handmade_evidence() -> None:
    gold = review_only(ReviewGroup(upheld=1, corrected=2, other=3, pending=4, total=10))
    pred = review_only(ReviewGroup(upheld=7, corrected=8, other=3, pending=9, total=10))
    comparisons = compare_cells(gold, pred)  # wrong: upheld, corrected, pending
    evidence = {
        R + "upheld": Evidence(status="mismatch", source_value="1"),  # wrong and flagged
        R + "other": Evidence(status="unsupported"),  # right but flagged: a false alarm
        R + "pending": Evidence(status="grounded", start=0, end=1, text="9"),  # wrong, grounding missed it
        R + "total": Evidence(status="blank"),
    }
    findings = [
        finding("G-mismatch", [R + "corrected"], attribution="extraction"),  # wrong and flagged by a finding
        finding("R4.1", [R + "pending", R + "total"], attribution="report"),  # blames the report: no flag
    ]
    flagged = flagged_cells(findings, evidence)
    assert flagged == {R + "upheld", R + "other", R + "corrected"}
    counts = flag_counts(comparisons, flagged)
    assert (counts.wrong, counts.flagged, counts.flagged_wrong) == (3, 3, 2)
    assert counts.recall == pytest.approx(2 / 3)
    assert counts.precision == pytest.approx(2 / 3)

    # nothing wrong: recall is 1.0 by definition; nothing flagged: precision is undefined
    clean = flag_counts(compare_cells(gold, gold), set())
    assert clean.recall == 1.0 and clean.precision is None
    # flags on a path neither report has are not counted
    assert flag_counts(comparisons, {"applications.total[0]"}).flagged == 0

    # a failed equation blamed on the extraction names all its operands: only the wider net counts them
    doubted_sum = findings + [finding("R4.1", [R + "upheld", R + "pending", R + "total"], attribution="extraction")]
    assert flagged_cells(doubted_sum, evidence) == flagged
    assert flagged_cells(doubted_sum, evidence, with_equations=True) == flagged | {R + "pending", R + "total"}


def test_attribution_is_judged_against_the_rules_that_fail_on_gold() -> None:
    gold_findings = [
        finding("R3.2", ["applications.total[0]", "applications.granted[0]"]),
        finding("G-unsupported", ["applications.granted[1]"], attribution="extraction"),  # not a rule
    ]
    keys = gold_rule_keys(gold_findings)
    assert keys == {("R3.2", frozenset({"applications.total[0]", "applications.granted[0]"}))}
    pred_findings = [
        finding("R3.2", ["applications.granted[0]", "applications.total[0]"], attribution="report"),  # right: fails on gold too
        finding("R3.2", ["applications.total[1]", "applications.granted[1]"], attribution="report"),  # wrong: gold passes
        finding("R4.1", ["review_litigation.review.total"], attribution="extraction"),  # right
        finding("R3.1", ["applications.total[0]"], attribution="report", severity="info"),  # info: not a failed rule
        finding("G-mismatch", ["applications.total[2]"], attribution="extraction"),  # grounding: not a rule
    ]
    checks = attribution_checks(pred_findings, keys)
    assert [(c.rule, c.expected, c.actual, c.correct) for c in checks] == [
        ("R3.2", "report", "report", True),
        ("R3.2", "extraction", "report", False),
        ("R4.1", "extraction", "extraction", True),
    ]


def test_cost_from_meta() -> None:
    meta = {"timings_s": {"read": 1.0, "total": 2.5},
            "llm": {"tokens_in": 1200, "tokens_out": 300, "retries": 2, "calls": 3, "cache_hits": 1}}
    cost = cost_from_meta(meta, wall_seconds=9.0)
    assert (cost.seconds, cost.tokens_in, cost.tokens_out, cost.retries) == (2.5, 1200, 300, 2)
    assert (cost.calls, cost.cache_hits) == (3, 1)
    bare = cost_from_meta({}, wall_seconds=0.75)
    assert (bare.seconds, bare.tokens_in, bare.tokens_out, bare.retries) == (0.75, None, None, None)
    openai_names = cost_from_meta({"llm": {"prompt_tokens": 10, "completion_tokens": 4}})
    assert (openai_names.tokens_in, openai_names.tokens_out, openai_names.seconds) == (10, 4, None)


def test_usage_by_section_is_a_mean_per_report_that_adds_up_to_the_totals() -> None:
    from evals.scoring import usage_by_section

    first = cost_from_meta({"llm": {"tokens_in": 300, "tokens_out": 30, "by_section": {
        "section3": {"tokens_in": 200, "tokens_out": 20, "calls": 1}, "repair": {"tokens_in": 100, "tokens_out": 10, "calls": 1}}}})
    second = cost_from_meta({"llm": {"tokens_in": 100, "tokens_out": 10, "by_section": {
        "section3": {"tokens_in": 100, "tokens_out": 10, "calls": 1, "flag": True}}}})
    unread = cost_from_meta({}, wall_seconds=1.0)  # a failed read: no usage, not a report of zero tokens
    by_kind = usage_by_section([first, second, unread])
    assert by_kind == {"section3": {"tokens_in": 150, "tokens_out": 15, "calls": 1},
                       "repair": {"tokens_in": 50, "tokens_out": 5, "calls": 0.5}}
    assert usage_by_section([unread]) == {}
