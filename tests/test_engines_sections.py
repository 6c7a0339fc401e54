"""The compact section answer models: grammar-friendly schemas and a lossless way into ``Report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.backends.schema_format import grammar_schema
from extractor.llm_sections import (
    answer_cells,
    answer_from_report,
    build_report,
    detect_single_other_row,
    header_spec,
    normalize_decimal,
    section2_spec,
    section3_spec,
    section4_spec,
    set_cell_safely,
    table_specs,
    unit_of,
)
from extractor.schema import Report, iter_cells
from tests.shared_data import SHARED

GOLD = sorted((SHARED / "gold").glob("*.json"))
DEVSET = sorted((SHARED / "devset").glob("*.json"))


def _all_specs() -> list:
    return [header_spec(), section2_spec("2021"), section2_spec("2019"), section3_spec(True), section3_spec(False), section4_spec()]


@pytest.mark.parametrize("spec", _all_specs(), ids=lambda s: f"{s.name}-{s.template or len(s.fields)}")
def test_schemas_have_no_refs_and_fixed_length_rows(spec) -> None:  # type: ignore[no-untyped-def]
    schema = spec.model().model_json_schema()
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    for f in spec.fields:
        prop = schema["properties"][f.name]
        if f.array:
            assert prop["minItems"] == prop["maxItems"] == len(f.paths)
    # and the backend's grammar form keeps the keys (the names the model writes) in template order
    assert list(grammar_schema(spec.model())["properties"]) == [f.name for f in spec.fields]


def test_the_model_writes_short_printed_row_names_and_code_keeps_its_keys() -> None:
    spec = section3_spec(False)
    names = [f.name for f in spec.fields]
    assert len(set(names)) == len(names)
    # each 三 name is printed verbatim in its row's template label, so a repair can find the row's line
    for f in spec.fields:
        assert f.name in f.label, f.key
    model = spec.model()
    by_name = model.model_validate_json(json.dumps({f.name: [1, 0, 0, 0, 0, 0, 1] for f in spec.fields}))
    by_key = model.model_validate({f.key: [1, 0, 0, 0, 0, 0, 1] for f in spec.fields})  # cached answers
    assert by_name == by_key and "granted" in by_name.model_dump()


def test_a_row_is_always_its_cells() -> None:
    spec = section3_spec(True).subset(["applications.granted", "applications.total"])
    answer = spec.model().model_validate_json('{"予以公开":[0,0,null,0,0,0,0],"总计":[3,0,0,0,0,1,4]}')
    cells = answer_cells(spec, answer)
    assert [cells[f"applications.granted[{i}]"] for i in range(7)] == [0, 0, None, 0, 0, 0, 0]
    # no shorthand for a whole row: the 1.5B model used one to skip rows it could read
    for shorthand in ('{"予以公开":0,"总计":[3,0,0,0,0,1,4]}', '{"予以公开":null,"总计":[3,0,0,0,0,1,4]}'):
        with pytest.raises(ValueError):
            spec.model().model_validate_json(shorthand)


def test_section3_rows_follow_the_printed_other_layout() -> None:
    assert [f.key for f in section3_spec(True).fields][20] == "other_processing"
    assert [f.key for f in section3_spec(False).fields][20:23] == ["other_overdue_correction", "other_overdue_fee", "other_other"]
    assert len(section3_spec(True).fields) == 23 and len(section3_spec(False).fields) == 25


def test_subset_and_chunks_keep_print_order() -> None:
    spec = section3_spec(False)
    sub = spec.subset(["applications.total", "applications.granted"])
    assert [f.key for f in sub.fields] == ["granted", "total"]
    chunks = spec.chunks(10)
    assert [len(c.fields) for c in chunks] == [10, 10, 5]
    assert [f.key for c in chunks for f in c.fields] == [f.key for f in spec.fields]
    assert sub.model() is spec.subset(["applications.granted", "applications.total"]).model()


@pytest.mark.parametrize("gold_path", GOLD + DEVSET, ids=lambda p: p.stem)
def test_answers_round_trip_every_gold_report(gold_path: Path) -> None:
    gold = Report.model_validate(json.loads(gold_path.read_text(encoding="utf-8")))
    assert gold.template is not None
    cells = {}
    for spec in table_specs(gold.template, gold.single_other_row):
        answer = spec.model().model_validate(answer_from_report(spec, gold))
        cells.update(answer_cells(spec, answer))
    rebuilt = build_report(gold.template, gold.single_other_row, cells, agency=gold.agency, year=gold.year)
    want = {p: v for p, v in iter_cells(gold)}
    got = dict(iter_cells(rebuilt))
    # every printed cell comes back exactly; a row the gold lacks comes back as blanks
    assert {p: got[p] for p in want} == want
    assert all(v is None for p, v in got.items() if p not in want)


def test_answer_cells_coerces_decimals_signs_and_junk() -> None:
    spec2019 = section2_spec("2019")
    answer = answer_from_report(spec2019, build_report("2019", True, {}))
    answer.update({"licensing": [40, -2, 310], "procurement_amount": "251000元", "procurement_amount_unit": " 元 ", "fees": [4, None]})
    cells = answer_cells(spec2019, answer)  # a remote model without a grammar may write units into the cell
    assert cells["active_disclosure.licensing.change"] == -2
    assert cells["active_disclosure.procurement.amount"] == "251000"
    assert cells["active_disclosure.procurement.amount_unit"] == "元"
    assert cells["active_disclosure.fees.change"] is None
    assert normalize_decimal(12.5) == "12.5" and normalize_decimal(3.0) == "3" and normalize_decimal("三十余") is None
    assert normalize_decimal("1,234.50万元") == "1234.50"


def test_unit_of_maps_cells_to_rows_and_groups() -> None:
    assert unit_of("applications.total[6]") == "applications.total"
    assert unit_of("active_disclosure.fees.amount_10k_yuan") == "active_disclosure.fees"
    assert unit_of("review_litigation.review.total") == "review_litigation"


def test_single_other_row_detection() -> None:
    assert detect_single_other_row("（六）其他处理 0 0 0 0 0 0 0 （七）总计", "2021") is True
    assert detect_single_other_row("（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理", "2021") is False
    assert detect_single_other_row("", "2019") is True
    assert detect_single_other_row("", "2021") is False


def test_set_cell_safely_creates_a_missing_section() -> None:
    report = Report(template="2021")
    set_cell_safely(report, "review_litigation.review.total", 3)
    set_cell_safely(report, "active_disclosure.fees.amount_10k_yuan", "1.5")
    assert report.review_litigation is not None and report.review_litigation.review is not None
    assert report.review_litigation.review.total == 3
    assert report.active_disclosure is not None and report.active_disclosure.fees is not None
    assert report.active_disclosure.fees.amount_10k_yuan == "1.5"


@pytest.mark.parametrize("spec", _all_specs(), ids=lambda s: f"{s.name}-{s.template or len(s.fields)}")
def test_string_patterns_avoid_escapes_that_crash_llama_cpp(spec) -> None:  # type: ignore[no-untyped-def]
    # llama.cpp turns a pattern's 「\.」 into a grammar escape its parser rejects; the server then segfaults.
    def patterns(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
            return own + [p for v in node.values() for p in patterns(v)]
        if isinstance(node, list):
            return [p for v in node for p in patterns(v)]
        return []

    for pattern in patterns(grammar_schema(spec.model())):
        assert "\\" not in pattern, pattern
