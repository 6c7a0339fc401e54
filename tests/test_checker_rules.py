"""Each rule fires on a seed with one injected error, names the right cells and attributes it right.

Two kinds of injection: the number is changed IN THE SOURCE TEXT (the agency printed a wrong number:
every operand is grounded, so it is a report error), or changed only IN THE REPORT (a reader misread:
the cell is not grounded, so it is an extraction error).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.pipeline import extract_text, recheck
from extractor.schema import set_cell


def _seed(shared_dir: Path, prefix: str) -> str:
    return next((shared_dir / "seeds").glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def _replace_cell_in_text(text: str, span: tuple[int, int], new: str) -> str:
    return text[: span[0]] + new + text[span[1] :]


def _finding(findings, rule: str, cell: str):  # type: ignore[no-untyped-def]
    return [f for f in findings if f.rule == rule and cell in f.cells]


@pytest.mark.parametrize(
    ("cell", "new", "rules"),
    [
        ("applications.new_received[0]", "30", {"R3.1", "R3.3"}),  # 新收 自然人 28 → 30
        ("applications.granted[6]", "2", {"R3.2", "R3.3"}),  # 予以公开 总计 1 → 2
        ("applications.total[1]", "3", {"R3.1", "R3.2", "R3.3"}),  # 总计 商业企业 1 → 3
        ("review_litigation.litigation_direct.total", "4", {"R4.1"}),
    ],
)
def test_printed_error_is_a_report_error(shared_dir: Path, cell: str, new: str, rules: set[str]) -> None:
    text = _seed(shared_dir, "001")
    clean = extract_text(text, None)
    ev = clean.evidence[cell]
    assert ev.status == "grounded" and ev.start is not None and ev.end is not None
    mutated = _replace_cell_in_text(text, (ev.start, ev.end), new)
    result = extract_text(mutated)
    for rule in rules:
        hits = _finding(result.findings, rule, cell)
        assert hits, f"{rule} did not fire for {cell}"
        assert all(f.attribution == "report" for f in hits)
    assert result.evidence[cell].status == "grounded"
    assert not result.extraction_doubts


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("applications.unable_not_held[0]", 81),  # a misread 18
        ("applications.carried_forward[6]", 3),  # a number the source does not print
        ("review_litigation.review.upheld", 1),
        ("active_disclosure.normative_documents.in_force", 71),
    ],
)
def test_misread_is_an_extraction_error(shared_dir: Path, cell: str, value: int) -> None:
    text = _seed(shared_dir, "001")
    report = extract_text(text).report
    set_cell(report, cell, value)
    findings, evidence = recheck(report, text)
    assert evidence[cell].status == "mismatch"
    g1 = _finding(findings, "G1", cell)
    assert g1 and g1[0].attribution == "extraction" and g1[0].found == value
    arithmetic = [f for f in findings if f.rule.startswith(("R3", "R4")) and cell in f.cells]
    assert all(f.attribution == "extraction" for f in arithmetic)
    if cell.startswith("applications"):
        assert arithmetic, "a misread table-三 cell must also break an equation"


def test_domain_rules(shared_dir: Path) -> None:
    text = _seed(shared_dir, "001")
    report = extract_text(text).report
    set_cell(report, "applications.granted[0]", -1)
    set_cell(report, "review_litigation.review.pending", -2)
    findings, _ = recheck(report, text)
    assert _finding(findings, "R3.4", "applications.granted[0]")
    assert _finding(findings, "R4.2", "review_litigation.review.pending")


def test_template_year_mismatch_and_missing_sections(shared_dir: Path) -> None:
    text = _seed(shared_dir, "001")
    report = extract_text(text).report
    report.year = 2020
    findings, _ = recheck(report, text)
    assert [f for f in findings if f.rule == "R-F1" and f.expected == "2019" and f.found == "2021"]
    cut = text.replace("五、存在的主要问题及改进情况", "")
    result = extract_text(cut)
    assert [f for f in result.findings if f.rule == "R-F1" and "五、存在的主要问题及改进情况" in f.message]


def test_prose_versus_table(shared_dir: Path) -> None:
    text = _seed(shared_dir, "001")
    assert not [f for f in extract_text(text).findings if f.rule == "R-T1"]  # 「办理…依申请公开29件」 = 29
    altered = text.replace("办理政府信息依申请公开29件", "办理政府信息依申请公开31件")
    hits = [f for f in extract_text(altered).findings if f.rule == "R-T1"]
    assert hits and hits[0].expected == 31 and hits[0].found == 29
    assert hits[0].cells == ["applications.new_received[6]"] and hits[0].attribution == "report"


def test_blank_total_is_a_warning_not_an_arithmetic_error(shared_dir: Path) -> None:
    result = extract_text((shared_dir / "devset" / "d014.txt").read_text(encoding="utf-8"))
    r33 = [f for f in result.findings if f.rule == "R3.3" and "applications.granted[6]" in f.cells]
    assert r33 and r33[0].severity == "warning" and "空白" in r33[0].message


def test_ambiguous_glued_split_is_said_not_guessed_silently(shared_dir: Path) -> None:
    result = extract_text((shared_dir / "devset" / "d008.txt").read_text(encoding="utf-8"))
    path = "active_disclosure.normative_documents.in_force"
    said = [f for f in result.findings if f.rule == "G2" and path in f.cells]
    assert said and "77132470" in said[0].message and said[0].attribution == "extraction"
    ev = result.evidence[path]
    assert ev.status == "unsupported" and ev.alternatives  # the other values the run admits, listed
    # once per report: the original page reads what the text cannot
    assert [f.rule for f in result.findings].count("G3") == 1


def test_glued_rows_decided_by_column_totals(shared_dir: Path) -> None:
    # d008: 「220000022」 could be 22/0/… or 2/20/…; only the 商业企业 column total (1) decides.
    result = extract_text((shared_dir / "devset" / "d008.txt").read_text(encoding="utf-8"))
    assert result.report.applications["granted"] == [22, 0, 0, 0, 0, 0, 22]  # type: ignore[index]
    assert result.report.applications["partially_granted"] == [19, 1, 0, 0, 0, 0, 20]  # type: ignore[index]
    assert result.evidence["applications.granted[0]"].match == "split"


def test_displaced_number_is_named_and_its_equations_are_not_blamed_on_the_agency(shared_dir: Path) -> None:
    # d011: the converter printed the 结转下年度 总计 「1」 alone on a line; the row's 总计 cell is blank.
    result = extract_text((shared_dir / "devset" / "d011.txt").read_text(encoding="utf-8"))
    assert result.report.applications["carried_forward"] == [1, 0, 0, 0, 0, 0, None]  # type: ignore[index]
    said = [f for f in result.findings if f.cells == ["applications.carried_forward[6]"] and f.attribution == "extraction"]
    assert said and "「1」" in said[0].message
    assert result.evidence["applications.carried_forward[6]"].alternatives == [1]
    r31 = [f for f in result.findings if f.rule == "R3.1" and "applications.carried_forward[6]" in f.cells]
    assert r31 and all(f.attribution == "extraction" for f in r31)


def test_a_row_printing_fewer_values_than_cells_is_undecided_where_the_text_does_not_place_them(shared_dir: Path) -> None:
    # Make 行政规范性文件 (three cells, no equation) print two values, space-separated, with no column
    # header to place them: which cell is blank the text does not say.
    text = _seed(shared_dir, "001")
    mutated = text.replace("行政规范性文件 |\n4 |\n0 |\n17 |", "行政规范性文件   4   17")
    assert mutated != text
    result = extract_text(mutated)
    for field in ("issued", "repealed", "in_force"):
        ev = result.evidence[f"active_disclosure.normative_documents.{field}"]
        assert ev.status == "unsupported" and ev.match == "placement", field
    assert [f for f in result.findings if f.rule == "G2" and "active_disclosure.normative_documents.issued" in f.cells]
    report = result.report
    set_cell(report, "active_disclosure.normative_documents.in_force", 17)  # what a person might type
    _, evidence = recheck(report, mutated)
    assert evidence["active_disclosure.normative_documents.in_force"].status == "unsupported"  # 17 or blank
    set_cell(report, "active_disclosure.normative_documents.in_force", 5)  # a number this row does not print
    _, evidence = recheck(report, mutated)
    assert evidence["active_disclosure.normative_documents.in_force"].status == "unsupported"
    assert 17 in (evidence["active_disclosure.normative_documents.in_force"].alternatives or [])


def test_row_equation_places_a_total_the_row_prints_without_its_blanks(shared_dir: Path) -> None:
    # 予以公开 printing 「1   0   1」 for seven cells: R3.3 puts the last 1 in 总计 and the column totals put
    # the first in 自然人; the other cells are 0 or blank, which count alike.
    text = _seed(shared_dir, "001")
    start = text.index("(一)予以公开 |")
    end = text.index("(二)部分公开")
    mutated = text[:start] + "(一)予以公开   1   0   1\n" + text[end:]
    result = extract_text(mutated)
    assert result.report.applications["granted"] == [1, 0, 0, 0, 0, 0, 1]  # type: ignore[index]
    assert all(result.evidence[f"applications.granted[{c}]"].status == "grounded" for c in range(7))
    report = result.report
    set_cell(report, "applications.granted[6]", 7)
    _, evidence = recheck(report, mutated)
    assert evidence["applications.granted[6]"].status == "mismatch"
    assert evidence["applications.granted[6]"].source_value == "1"