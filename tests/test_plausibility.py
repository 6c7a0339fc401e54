"""R-Y3, R-P1, R-P2 (template.md §7.3) on real reports with one row edited in the source text."""

from __future__ import annotations


import pytest

from extractor.config import RunConfig
from extractor.findings import Finding
from extractor.pipeline import extract_text
from extractor.plausibility import rulemaking_level
from extractor.schema import get_cell

from evals.dataset import DEFAULT_SAMPLES_DIR

SHANGGAO_2019 = "004_08215283885fdb5e"  # 上高县工业和信息化局, 2019 template, one cell per line
CHANGDE_2019 = "003_2eb57d6c7113a5c1"  # 常德市科学技术局, a city department
HUIJI_2021 = "002_0792d5985b785f5a"  # 惠济区科技和工业信息化局, 2021 template, tabs


def _text(name: str) -> str:
    return (DEFAULT_SAMPLES_DIR / f"{name}.txt").read_text(encoding="utf-8")


def _findings(text: str, rule: str) -> list[Finding]:
    result = extract_text(text, RunConfig(engine="template"))
    return [f for f in result.findings if f.rule == rule]


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize("name", [SHANGGAO_2019, CHANGDE_2019, HUIJI_2021])
def test_the_unedited_reports_raise_none_of_these_warnings(name: str) -> None:
    result = extract_text(_text(name), RunConfig(engine="template"))
    assert not [f for f in result.findings if f.rule in {"R-Y3", "R-P1", "R-P2"}]


def test_negative_item_stock_is_a_report_warning() -> None:
    text = _replace_once(_text(SHANGGAO_2019), "行政许可 |\n0 |\n0 |\n0 |", "行政许可 |\n3 |\n-5 |\n0 |")
    (finding,) = _findings(text, "R-Y3")
    assert finding.cells == ["active_disclosure.licensing.prev_items", "active_disclosure.licensing.change"]
    assert finding.found == -2 and finding.attribution == "report" and finding.severity == "warning"


def test_a_county_body_printing_regulations_is_implausible_but_a_city_body_is_not() -> None:
    county = _replace_once(_text(SHANGGAO_2019), "规章 |\n0 |\n0 |\n0 |", "规章 |\n0 |\n0 |\n6 |")
    (finding,) = _findings(county, "R-P1")
    assert finding.cells == ["active_disclosure.regulations.total_published"]
    assert finding.attribution == "report" and "县级" in finding.message

    city = _replace_once(_text(CHANGDE_2019), "规章\n\n0\n\n0\n\n0\n", "规章\n\n0\n\n0\n\n6\n")
    result = extract_text(city, RunConfig(engine="template"))
    assert result.report is not None and get_cell(result.report, "active_disclosure.regulations.total_published") == 6
    assert not [f for f in result.findings if f.rule == "R-P1"]


def test_an_unpaid_fee_notice_needs_the_fee_in_the_prose() -> None:
    text = _text(HUIJI_2021)
    row = "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请\t0\t0\t0\t0\t0\t0\t0"
    text = _replace_once(text, row, row.replace("\t0\t0\t0\t0\t0\t0\t0", "\t1\t0\t0\t0\t0\t0\t1"))
    # the report's prose does speak of fee notices: nothing to say
    assert _findings(text, "R-P2") == []
    silent = _replace_once(text, "发出收费通知的件数和总金额以及实际收取的总金额均为0。", "")
    (finding,) = _findings(silent, "R-P2")
    assert finding.cells == ["applications.other_overdue_fee[6]"] and finding.found == 1
    assert finding.severity == "info" and finding.attribution == "report"


@pytest.mark.parametrize(("agency", "level"), [
    ("惠济区科技和工业信息化局", "县级"), ("上高县工业和信息化局", "县级"), ("达拉特旗人民政府", "县级"),
    ("某镇人民政府", "乡镇/街道"), ("某某街道办事处", "乡镇/街道"), ("阿里地区行政公署", "地区（非设区的市）"),
    ("广西壮族自治区人民政府", None), ("常德市科学技术局", None), ("镇江市人民政府", None),
    ("上海市住房和城乡建设管理委员会", None), (None, None),
])
def test_rulemaking_level_from_the_agency_name(agency: str | None, level: str | None) -> None:
    assert rulemaking_level(agency) == level
