"""R-Y1/R-Y2 across years in a batch, on the real 2023 and 2024 reports of 洪泽区 (d002, d003)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from extractor.cli import main
from extractor.year_checks import agency_groups

from evals.dataset import DEFAULT_SAMPLES_DIR

CARRIED_FORWARD_2023 = "四、结转下年度继续办理                            0    0   0   0    0    0   0"
NORMATIVE_2024 = "行政规范性文件          3          0       8"


def _batch(tmp_path: Path, text_2023: str, text_2024: str) -> tuple[list[dict[str, str]], str]:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "hzq2023.txt").write_text(text_2023, encoding="utf-8")
    (inputs / "hzq2024.txt").write_text(text_2024, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), "--engine", "template"]) == 0
    with open(out / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["规则 [rule]"] in {"R-Y1", "R-Y2"}]
    return rows, str(inputs / "hzq2024.txt")


def _texts() -> tuple[str, str]:
    t2023 = (DEFAULT_SAMPLES_DIR / "d002.txt").read_text(encoding="utf-8")
    t2024 = (DEFAULT_SAMPLES_DIR / "d003.txt").read_text(encoding="utf-8")
    assert t2023.count(CARRIED_FORWARD_2023) == 1 and t2024.count(NORMATIVE_2024) == 1
    return t2023, t2024


def _summary_count(printed: str) -> str:
    line = next(line for line in printed.splitlines() if "year-to-year mismatches" in line)
    return line.split("│")[-2].strip()


def test_consecutive_reports_that_continue_each_other_raise_nothing(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    rows, _ = _batch(tmp_path, *_texts())
    assert rows == []  # 2023 carries 0 forward, 2024 carries 0 in; 现行有效 5 + 3 − 0 = 8
    assert _summary_count(capsys.readouterr().out) == "0"


def test_a_broken_carry_over_and_stock_are_reported_on_the_later_year(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    t2023, t2024 = _texts()
    t2023 = t2023.replace(CARRIED_FORWARD_2023,
                          "四、结转下年度继续办理                            2    0   0   0    0    0   2")
    t2024 = t2024.replace(NORMATIVE_2024, NORMATIVE_2024[:-1] + "9")
    rows, later = _batch(tmp_path, t2023, t2024)
    by_rule = {r["规则 [rule]"]: r for r in rows}
    assert set(by_rule) == {"R-Y1", "R-Y2"}
    assert all(r["路径 [path]"] == later for r in rows)
    y1 = by_rule["R-Y1"]
    assert y1["单元格 [cells]"] == "applications.carried_over[0];applications.carried_over[6]"
    assert (y1["应为 [expected]"], y1["实为 [found]"], y1["归因 [attribution]"]) == ("2", "0", "report")
    y2 = by_rule["R-Y2"]
    assert y2["单元格 [cells]"] == "active_disclosure.normative_documents.in_force"
    assert (y2["应为 [expected]"], y2["实为 [found]"], y2["严重程度 [severity]"]) == ("8", "9", "info")
    assert _summary_count(capsys.readouterr().out) == "1"


def test_agency_groups_join_a_qualified_name_only_when_unambiguous() -> None:
    groups = agency_groups({"淮安市洪泽区人民政府", "洪泽区人民政府", "淮安市人民政府", "江苏省淮安市人民政府",
                            "北京市朝阳区人民政府", "长春市朝阳区人民政府", "朝阳区人民政府", "上海市科委", "科委"})
    assert groups["淮安市洪泽区人民政府"] == "洪泽区人民政府"
    assert groups["江苏省淮安市人民政府"] == "淮安市人民政府"
    assert groups["北京市朝阳区人民政府"] == "北京市朝阳区人民政府"  # two cities claim 朝阳区: join neither
    assert groups["长春市朝阳区人民政府"] == "长春市朝阳区人民政府"
    assert groups["上海市科委"] == "上海市科委"  # 「科委」 names no place


def test_check_compares_with_the_previous_years_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    t2023, t2024 = _texts()
    source_2024 = tmp_path / "2024.txt"
    source_2024.write_text(t2024.replace(NORMATIVE_2024, NORMATIVE_2024[:-1] + "9"), encoding="utf-8")
    source_2023 = tmp_path / "2023.txt"
    source_2023.write_text(t2023, encoding="utf-8")
    paths = {}
    for year, source in (("2023", source_2023), ("2024", source_2024)):
        assert main(["extract", str(source), "--engine", "template", "--json"]) == 0
        paths[year] = tmp_path / f"{year}.json"
        paths[year].write_text(capsys.readouterr().out, encoding="utf-8")

    assert main(["check", str(paths["2024"]), "--source", str(source_2024), "--previous", str(paths["2023"]), "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    (y2,) = [f for f in findings if f["rule"].startswith("R-Y")]
    assert (y2["rule"], y2["expected"], y2["found"]) == ("R-Y2", 8, 9)

    # the same year twice is no pair: nothing compared, and the user is told why
    assert main(["check", str(paths["2024"]), "--previous", str(paths["2024"]), "--json"]) == 0
    captured = capsys.readouterr()
    assert not [f for f in json.loads(captured.out)["findings"] if f["rule"].startswith("R-Y")]
    assert "consecutive years only" in captured.err
