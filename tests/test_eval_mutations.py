"""The mutation test's own parts: which cells it may touch, what it plants, and where it writes."""

from __future__ import annotations

import random

from extractor.findings import Evidence, Finding
from extractor.schema import Report, ReviewGroup, ReviewLitigation, empty_report, get_cell, set_cell

from evals.mutations import (
    KINDS,
    Mutation,
    MutationOutcome,
    Target,
    blames_report_for,
    mutate_value,
    mutated_report,
    mutation_targets,
    neighbour_values,
    plan_mutations,
    render_mutation,
    run_mutation,
    summarize,
)

# Offsets are found with str.index, never hand-counted; ０ is a full-width zero as some reports print it.
TEXT = "行政复议 维持 12 纠正 ０ 其他 3 未审结 40 总计 55"


def _span(text: str, needle: str, after: int = 0) -> tuple[int, int]:
    start = text.index(needle, after)
    return start, start + len(needle)


def review_report() -> tuple[Report, dict[str, Evidence]]:
    report = Report(template="2021", review_litigation=ReviewLitigation(
        review=ReviewGroup(upheld=12, corrected=0, other=3, pending=40, total=55)))
    p = "review_litigation.review."
    evidence = {}
    for field, needle in (("upheld", "12"), ("corrected", "０"), ("other", "3"), ("pending", "40"), ("total", "55")):
        s, e = _span(TEXT, needle, TEXT.index({"upheld": "维持", "corrected": "纠正", "other": "其他", "pending": "未审结", "total": "总计"}[field]))
        evidence[p + field] = Evidence(status="grounded", start=s, end=e, text=TEXT[s:e])
    return report, evidence


def test_render_replaces_exactly_the_cells_span() -> None:
    report, evidence = review_report()
    ev = evidence["review_litigation.review.pending"]
    m = Mutation("off_by_one", "review_litigation.review.pending", 40, 41, ev.start or 0, ev.end or 0)
    out = render_mutation(TEXT, m)
    assert out == "行政复议 维持 12 纠正 ０ 其他 3 未审结 41 总计 55"
    # a longer number shifts the rest but leaves every other character alone
    m2 = Mutation("fabricated", "review_litigation.review.corrected", 0, 17, *_span(TEXT, "０"))
    out2 = render_mutation(TEXT, m2)
    assert out2 == "行政复议 维持 12 纠正 17 其他 3 未审结 40 总计 55"
    assert out2.replace("17", "０", 1) == TEXT


def test_targets_need_a_span_printing_exactly_the_gold_number() -> None:
    report, evidence = review_report()
    p = "review_litigation.review."
    # full-width ０ counts as 0; a span that prints another number, a mismatch, or no span does not
    evidence[p + "other"] = Evidence(status="grounded", start=evidence[p + "upheld"].start, end=evidence[p + "upheld"].end)
    evidence[p + "total"] = Evidence(status="mismatch", start=0, end=2, source_value="5")
    del evidence[p + "pending"]
    targets = mutation_targets(report, evidence, TEXT)
    assert [(t.path, t.value) for t in targets] == [(p + "upheld", 12), (p + "corrected", 0)]


def test_mutated_values_per_kind() -> None:
    gold = empty_report("2021")
    for col, v in enumerate([28, 1, 0, 0, 0, 0, 29]):
        set_cell(gold, f"applications.new_received[{col}]", v)
    for col, v in enumerate([3, 0, 0, 0, 0, 0, 3]):
        set_cell(gold, f"applications.carried_over[{col}]", v)
    rng = random.Random(1)
    t28 = Target("applications.new_received[0]", 28, 0, 2)
    assert mutate_value("swap_digits", t28, gold, rng) == 82
    assert mutate_value("swap_digits", Target("x", 105, 0, 3), gold, rng) == 150  # never a leading zero (015)
    assert mutate_value("swap_digits", Target("x", 11, 0, 2), gold, rng) is None
    assert mutate_value("swap_digits", Target("x", 7, 0, 1), gold, rng) is None
    assert mutate_value("off_by_one", t28, gold, rng) in (27, 29)
    assert mutate_value("off_by_one", Target("x", 0, 0, 1), gold, rng) == 1
    assert mutate_value("fabricated", t28, gold, rng) is None
    assert 1 <= (mutate_value("fabricated", Target("x", 0, 0, 1), gold, rng) or 0) <= 30
    # row shift: new_received is the first row, so its only neighbour is carried_over below
    assert neighbour_values(gold, "applications.new_received[0]") == [3]
    assert mutate_value("row_shift", t28, gold, rng) == 3
    assert neighbour_values(gold, "applications.carried_over[6]") == [29]  # granted below is blank


def test_plan_is_seeded_distinct_and_consistent() -> None:
    report, evidence = review_report()
    plan = plan_mutations(report, evidence, TEXT, 4, random.Random("7:x"))
    again = plan_mutations(report, evidence, TEXT, 4, random.Random("7:x"))
    assert plan == again
    assert len(plan) == 4 and len({m.path for m in plan}) == 4
    for m in plan:
        assert m.kind in KINDS and m.new != m.old
        assert get_cell(report, m.path) == m.old
        assert TEXT[m.start:m.end].replace("０", "0") == str(m.old)
        if m.kind == "fabricated":
            assert m.old == 0
    # more mutations asked for than cells: each cell at most once
    assert len(plan_mutations(report, evidence, TEXT, 50, random.Random(0))) <= 5


def test_run_mutation_records_detection_and_hallucination_flags() -> None:
    report, evidence = review_report()
    p = "review_litigation.review."
    m = Mutation("off_by_one", p + "pending", 40, 41, *_span(TEXT, "40"))
    seen: dict[str, object] = {}

    def read_text(text: str) -> tuple[Report, list[Finding]]:
        seen["text"] = text
        read = mutated_report(report, m)
        return read, [Finding(rule="R4.1", authority="official", severity="error", attribution="report",
                              cells=[p + "pending", p + "total"], message="总计不符")]

    def recheck(rep: Report, text: str) -> tuple[list[Finding], dict[str, Evidence]]:
        seen["recheck"] = (get_cell(rep, p + "pending"), text)
        return [], {p + "pending": Evidence(status="mismatch", source_value="40")}

    out = run_mutation("toy", TEXT, report, m, read_text, recheck)
    assert seen["text"] == render_mutation(TEXT, m)
    assert seen["recheck"] == (41, TEXT)  # the hallucination pairs the mutated report with the ORIGINAL text
    assert out.read_as_mutated and out.detected and out.hallucination_flagged and out.error is None

    def crashing_read(text: str) -> tuple[Report, list[Finding]]:
        raise RuntimeError("boom")

    failed = run_mutation("toy", TEXT, report, m, crashing_read, recheck)
    assert failed.error == "RuntimeError: boom" and failed.read_as_mutated is None and not failed.detected
    assert failed.hallucination_flagged  # the report-only half still ran


def test_blame_needs_a_report_attributed_rule_naming_the_cell() -> None:
    def f(rule: str, attribution: str, cells: list[str]) -> Finding:
        return Finding(rule=rule, authority="official", severity="error", attribution=attribution, cells=cells, message="m")  # type: ignore[arg-type]

    assert blames_report_for([f("R3.3", "report", ["a", "b"])], "b")
    assert not blames_report_for([f("R3.3", "extraction", ["b"])], "b")
    assert not blames_report_for([f("R3.3", "report", ["a"])], "b")
    assert not blames_report_for([f("G-mismatch", "report", ["b"])], "b")


def test_summary_counts_detection_only_where_arithmetic_can_see() -> None:
    def outcome(path: str, detected: bool, flagged: bool) -> MutationOutcome:
        return MutationOutcome("s", Mutation("off_by_one", path, 1, 2, 0, 1), True, detected, flagged)

    summary = summarize([
        outcome("applications.total[0]", True, True),
        outcome("review_litigation.review.total", False, True),
        outcome("active_disclosure.regulations.issued", False, False),  # section 二: no sum covers it
    ])
    assert (summary.total, summary.checkable, summary.detected_checkable) == (3, 2, 1)
    assert summary.detection_rate == 0.5
    assert summary.hallucination_rate == 2 / 3
    assert summary.by_kind["off_by_one"] == {"mutations": 3, "checkable": 2, "detected": 1, "hallucination_flagged": 2}
