"""Table 三's column equations read what a row cannot read alone, and doubt what a row read alone.

Generated glued reports (``evals.synth``) with known truth: a 总计 row of 4–5-digit counts glued into one
run is cut too many ways to weigh its own equation, and is read from the rows above it; a row whose
agency slipped in its own 总计 can be cut another way that keeps it, and only the column totals show it.
"""

from __future__ import annotations

from evals.synth.corpus import check
from evals.synth.flatten import render
from evals.synth.generate import generate
from extractor.normalize import normalize
from extractor.readings.source import admit
from extractor.schema import get_cell
from extractor.sections import analyze_layout

_READ_FROM_COLUMNS = "read from the column equations"


def _readings(seed: int, style: str = "glued"):  # type: ignore[no-untyped-def]
    norm = normalize(render(generate(seed), style).text)
    return admit(norm, analyze_layout(norm))


def test_a_row_too_long_to_weigh_alone_is_read_from_the_column_equations() -> None:
    read = 0
    for seed in range(1000, 1060):
        readings = _readings(seed)
        rows = [n.split(":")[0] for n in readings.notes if _READ_FROM_COLUMNS in n]
        if not rows:
            continue
        read += 1
        gold = generate(seed).report
        for row in rows:
            for i in range(7):
                path = f"{row}[{i}]"
                cell = readings.cells[path]
                assert len(cell.options) == 1, (seed, path, cell.options)
                assert cell.options[0].value == get_cell(gold, path), (seed, path, cell.options[0].value)
        result = check(generate(seed), "glued")
        assert not result.silent, (seed, result.silent)
    assert read >= 5  # the corpus has such tables: about one report in seven


def test_a_slip_in_a_rows_own_sum_that_another_cut_keeps_is_flagged() -> None:
    # seed 500179: 「5.要求行政机关确认或重新出具已获取信息0604706004711」 is 0/6/0/4706/0/0/4711 (the agency's
    # 总计 is one off); 0/60/47/0/600/4/711 keeps the row's sum, and its 总计 row is too long to weigh alone
    synth = generate(500179)
    assert not synth.consistent and synth.broken == "applications.not_processed_confirm_info[3]"
    result = check(synth, "glued")
    assert result.status == "ok"
    assert not result.silent, result.silent
    readings = _readings(500179)
    cell = readings.cells["applications.not_processed_confirm_info[3]"]
    assert {o.value for o in cell.options} >= {0, 4706}
    assert any("a slip in its own sum" in n for n in readings.notes)


def test_a_consistent_glued_table_is_not_doubted_for_slips() -> None:
    for seed in range(1000, 1040):
        synth = generate(seed, consistent=True)
        norm = normalize(render(synth, "glued").text)
        readings = admit(norm, analyze_layout(norm))
        assert not any("a slip in its own sum" in n for n in readings.notes), seed
