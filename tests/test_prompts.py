"""Prompt files render with every context the engines build, and the few-shot examples are correct."""

from __future__ import annotations

import json

import pytest
from jinja2 import UndefinedError

from extractor.config import RunConfig
from extractor.engines.llm_engine import LLMSectionAsker
from extractor.llm_sections import answer_from_report, header_spec, section3_spec, table_specs
from extractor.normalize import normalize
from extractor.prompting import PROMPTS_DIR, load_examples, prompt_version, render, template_names
from extractor.repair import feedback_for
from extractor.schema import iter_cells
from extractor.sections import analyze_layout

EXPECTED_TEMPLATES = {
    "system.md.j2", "header.md.j2", "section2_2021.md.j2", "section2_2019.md.j2", "section3.md.j2",
    "section4.md.j2", "repair.md.j2", "baseline.md.j2",
}


def _asker(example_name: str, use_examples: bool = False) -> tuple[LLMSectionAsker, object]:
    example = next(e for e in load_examples() if e.name == example_name)
    norm = normalize(example.text)
    layout = analyze_layout(norm)
    asker = LLMSectionAsker(RunConfig(engine="llm"), norm, layout, llm_factory=lambda c: None, use_examples=use_examples)  # type: ignore[arg-type,return-value]
    return asker, example


def test_every_prompt_file_exists_and_version_is_set() -> None:
    assert EXPECTED_TEMPLATES <= set(template_names())
    version = prompt_version()
    assert version.startswith((PROMPTS_DIR / "VERSION").read_text().strip() + "+")


@pytest.mark.parametrize("example_name", ["example_2021", "example_2019"])
def test_section_prompts_render_for_full_partial_and_repair_asks(example_name: str) -> None:
    asker, example = _asker(example_name)
    template = example.report.template  # type: ignore[attr-defined]
    for spec in [header_spec(), *table_specs(template, template == "2019")]:
        full = asker.prompt(spec)
        instructions = full.split(">>>")[-1]
        # 二 names its rows and their columns; 三's 25 row names are written by the grammar itself
        if spec.name == "section2":
            assert all(f.name in instructions for f in spec.fields)
        if spec.name == "section3":
            assert not any(f.name in instructions for f in spec.fields if f.name not in ("本年新收", "其他", "总计"))
        assert "<<<" in full and "{{" not in full and "{%" not in full
        # the schema is the grammar's business: no JSON schema text, no code keys in the prompt
        assert "properties" not in full and "minItems" not in full
        if spec.name != "header":
            assert not any(f.key in full for f in spec.fields if f.key != f.name)
        if spec.name == "section3":
            assert "自然人、商业企业、科研机构、社会公益组织、法律服务机构、其他、总计" in full
            assert "只抄这些行" not in full
            part = spec.subset(spec.units[:2])
            partial = asker.prompt(part, feedback="注意：上一次抄写有误")
            assert "只抄这些行：本年新收、上年结转" in partial and "注意：上一次抄写有误" in partial
            assert spec.fields[5].name not in partial.split(">>>")[-1]


def test_examples_shown_in_prompts_are_answers_of_the_example_text() -> None:
    asker, example = _asker("example_2021", use_examples=True)
    prompt = asker.prompt(section3_spec(False))
    shown = json.loads(prompt.split("示例答案：")[1].split("\n\n")[0])
    spec = section3_spec(False)
    by_name = {f.name: f for f in spec.fields}
    # an excerpt: only some rows, each printed in the example text and answered from its gold
    assert 5 <= len(shown) < len(spec.fields)
    sub = spec.subset([by_name[name].unit for name in shown])
    gold = answer_from_report(sub, example.report)  # type: ignore[attr-defined]
    assert shown == {by_name[name].name: gold[by_name[name].key] for name in shown}
    example_text = prompt.split("示例答案：")[0]
    for name in shown:
        label = normalize(by_name[name].label.split(" ")[-1]).text
        assert label in example_text
    assert "1.本机关不掌握相关政府信息1100002" in prompt
    # off by default: the examples did not pay for their tokens (see issue 17)
    plain, _ = _asker("example_2021")
    assert "示例" not in plain.prompt(section3_spec(False))


def test_render_is_strict_about_missing_variables() -> None:
    with pytest.raises(UndefinedError):
        render("section4.md.j2", text="x")


def test_repair_feedback_names_cells_in_chinese_and_skips_report_findings() -> None:
    from extractor.findings import Evidence, Finding

    _, example = _asker("example_2021")
    report = example.report.model_copy(deep=True)  # type: ignore[attr-defined]
    evidence = {"applications.granted[0]": Evidence(status="mismatch", source_value="2")}
    findings = [
        Finding(rule="R3.2", authority="derived", severity="error", attribution="extraction",
                cells=["applications.granted[0]", "applications.total[0]"], message="（七）总计 自然人 应为 6"),
        Finding(rule="R4.1", authority="derived", severity="error", attribution="report",
                cells=["review_litigation.review.total"], message="行政复议总计不等于各项之和"),
    ]
    text = feedback_for(["applications.granted[0]"], report, evidence, findings)
    # one line per row, under the name the model writes, with what the source holds at the bad cell
    row = report.applications["granted"]  # type: ignore[index]
    source = ["2"] + [str(v) for v in row[1:]]  # the mismatched cell as the source prints it, the rest as read
    assert f"- 予以公开：原文 [{','.join(source)}]（上次写成 {json.dumps(row, separators=(',', ':'))}）" in text
    assert "（七）总计 自然人 应为 6" in text
    assert "行政复议总计" not in text


def test_examples_fit_the_report_model_and_cover_both_templates() -> None:
    examples = load_examples()
    assert {e.report.template for e in examples} == {"2019", "2021"}
    for example in examples:
        for spec in [header_spec(), *table_specs(example.report.template, example.report.single_other_row)]:  # type: ignore[arg-type]
            spec.model().model_validate(answer_from_report(spec, example.report))
        # examples must teach non-zero copying, not "everything is 0"
        assert sum(1 for _, v in iter_cells(example.report) if v not in (None, 0, "0")) >= 10


@pytest.mark.parametrize("example", load_examples(), ids=lambda e: e.name)
def test_examples_pass_our_own_checker_and_grounding(example) -> None:  # type: ignore[no-untyped-def]
    verify_module = pytest.importorskip("extractor.verify")
    norm = normalize(example.text)
    layout = analyze_layout(norm)
    assert layout.template == example.report.template
    assert layout.year == example.report.year
    findings, evidence = verify_module.verify(example.report, norm, layout)
    not_grounded = {p: ev.status for p, ev in evidence.items() if ev.status not in ("grounded", "blank")}
    assert not_grounded == {}
    blanks_that_are_values = [p for p, ev in evidence.items() if ev.status == "blank" and p in dict(iter_cells(example.report)) and dict(iter_cells(example.report))[p] is not None]
    assert blanks_that_are_values == []
    errors = [f"{f.rule}: {f.message}" for f in findings if f.severity == "error"]
    assert errors == []


def test_section_text_is_squeezed_and_a_partial_table_is_excerpted() -> None:
    from extractor.engines.llm_engine import row_excerpt, squeeze

    raw = "规章 | 0 | 0 | 0 | ||\n\n\n      行政规范性文件          8          26       66\n第二十条第(五)项 | |||"
    assert squeeze(raw) == "规章 | 0 | 0 | 0\n行政规范性文件  8  26  66\n第二十条第(五)项"
    table = "\n".join(f"{i}.第{i}行 {i} 0 0 0 0 0 {i}" for i in range(1, 21))
    excerpt = row_excerpt(table, ["第10行"])
    assert excerpt == "……\n9.第9行 9 0 0 0 0 0 9\n10.第10行 10 0 0 0 0 0 10\n11.第11行 11 0 0 0 0 0 11\n……"
    assert row_excerpt(table, ["第10行", "没有这一行"]) is None  # a row it cannot find: the whole text
    assert row_excerpt("1.第1行 1 0 0 0 0 0 1", ["第1行"]) is None  # nothing to save
