"""Orchestration of ``--engine hybrid``: template reader first, the LLM only where it could not prove a cell.

The LLM is the scripted fake of tests/fake_llm.py; the template reader, grounding and checker are real.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from extractor.config import RunConfig
from extractor.engines.base import ReaderOutput
from extractor.engines.hybrid_engine import HybridEngine
from extractor.engines.template_engine import TemplateEngine
from extractor.normalize import normalize
from extractor.prompting import load_examples
from extractor.schema import Report, set_cell
from extractor.sections import analyze_layout
from extractor.verify import verify
from fake_llm import CountingFactory, GoldLLM
from tests.shared_data import SHARED



def _load(name: str) -> tuple[str, Report]:
    if name[0].isdigit():
        text = next((SHARED / "seeds").glob(f"{name}*.txt")).read_text(encoding="utf-8")
        gold_path = next((SHARED / "gold").glob(f"{name}*.json"))
    else:
        text = (SHARED / "devset" / f"{name}.txt").read_text(encoding="utf-8")
        gold_path = SHARED / "devset" / f"{name}.json"
    return text, Report.model_validate(json.loads(gold_path.read_text(encoding="utf-8")))


def _read(text: str, llm: Any, template_engine: Any = None, **config: Any) -> tuple[ReaderOutput, CountingFactory]:
    norm = normalize(text)
    layout = analyze_layout(norm)
    factory = CountingFactory(llm)
    engine = HybridEngine(factory, template_engine=template_engine)
    return engine.read(norm, layout, RunConfig(engine="hybrid", use_cache=False, **config)), factory


class MisreadingTemplate:
    """The real template reader, plus the misreadings a test plants in its report."""

    name = "template"

    def __init__(self, misreads: dict[str, Any], drop_rows: list[str] | None = None) -> None:
        self.misreads = misreads
        self.drop_rows = drop_rows or []

    def read(self, source: Any, layout: Any, config: Any) -> ReaderOutput:
        out = TemplateEngine().read(source, layout, config)
        for path, value in self.misreads.items():
            set_cell(out.report, path, value)
        if self.drop_rows and out.report.applications:
            out.report.applications = {k: v for k, v in out.report.applications.items() if k not in self.drop_rows}
        return out


def test_a_report_the_template_reader_proves_loads_no_model() -> None:
    text, gold = _load("000")
    out, factory = _read(text, GoldLLM(gold))
    assert factory.created == 0
    assert set(out.producers.values()) == {"template"}
    assert out.meta["llm"]["calls"] == 0 and out.meta["hybrid"]["cells_from_llm"] == 0
    template = TemplateEngine().read(normalize(text), analyze_layout(normalize(text)), RunConfig())
    assert out.report.canonical() == template.report.canonical()


def test_a_missing_agency_costs_one_small_header_question() -> None:
    text, gold = _load("001")  # names no agency; everything else reads grounded
    fake = GoldLLM(gold)
    out, _ = _read(text, fake)
    assert fake.asked_sections() == [["agency", "year"]]
    assert out.report.agency is None  # the gold says the report names none; the fake answers None
    assert set(out.producers.values()) == {"template"}


def test_a_misread_cell_is_replaced_by_the_llm_value_grounding_prefers() -> None:
    text, gold = _load("000")
    out, factory = _read(text, GoldLLM(gold), MisreadingTemplate({"applications.new_received[0]": 99}))
    assert factory.llm.asked_sections() == [["new_received"]]
    assert out.report.applications is not None and gold.applications is not None
    assert out.report.applications["new_received"] == gold.applications["new_received"]
    assert out.producers["applications.new_received[0]"] == "llm"
    assert out.producers["applications.new_received[1]"] == "template"
    assert not [f for f in out.findings if f.rule == "X-DISAGREE"]


def test_a_run_the_text_cannot_split_is_not_asked_and_stays_flagged_with_its_alternatives() -> None:
    # d004 glues 「政府集中采购13575394432.52元」 and d008 「行政规范性文件77132470」: the text admits several
    # cuts, so no model answer could prove one. Hybrid does not ask; the cells stay undecided, with the
    # other values the text admits listed.
    for name, row in (("d004", "procurement"), ("d008", "normative_documents")):
        text, gold = _load(name)
        fake = GoldLLM(gold)
        out, _ = _read(text, fake)
        assert not any(unit.startswith(row) for asked in fake.asked_sections() for unit in asked), name
        assert not [f for f in out.findings if f.rule == "X-DISAGREE"]
        norm = normalize(text)
        _, evidence = verify(out.report, norm, analyze_layout(norm))
        undecided = [p for p, ev in evidence.items() if p.startswith(f"active_disclosure.{row}.") and ev.undecided]
        assert undecided and all(evidence[p].alternatives for p in undecided), name
        assert all(out.producers[p] == "template" for p in undecided)


def test_a_row_the_template_reader_dropped_is_filled_by_grounded_llm_values() -> None:
    text, gold = _load("000")
    out, factory = _read(text, GoldLLM(gold), MisreadingTemplate({}, drop_rows=["granted"]))
    assert factory.llm.asked_sections() == [["granted"]]
    assert out.report.applications is not None and gold.applications is not None
    assert out.report.applications["granted"] == gold.applications["granted"]
    assert {out.producers[f"applications.granted[{i}]"] for i in range(7)} == {"llm"}


def test_rows_the_report_does_not_print_stay_absent_unless_the_llm_claims_a_number() -> None:
    example = next(e for e in load_examples() if e.name == "example_2021")
    line = next(x for x in example.text.splitlines() if x.startswith("2.其他法律行政法规禁止公开"))
    text = example.text.replace(line + "\n", "")
    fake = GoldLLM(example.report)
    out, _ = _read(text, fake)
    assert ["denied_law_prohibited"] in fake.asked_sections()
    assert out.report.applications is not None
    assert out.report.applications.get("denied_law_prohibited") is None  # the model said 0s it cannot prove
    assert not [f for f in out.findings if f.rule == "X-DISAGREE"]

    inventing = GoldLLM(example.report, wrong={"applications.denied_law_prohibited[0]": 4}, wrong_times=10)
    out, _ = _read(text, inventing)
    flagged = [f for f in out.findings if f.rule == "X-DISAGREE"]
    assert [f.cells for f in flagged] == [["applications.denied_law_prohibited[0]"]]
    assert "规则读取为 空白，模型读取为 4" in flagged[0].message
    assert out.report.applications is not None and out.report.applications.get("denied_law_prohibited") is None


def test_hybrid_is_the_pipeline_default_and_records_the_reader_of_every_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.engines import llm_engine
    from extractor.pipeline import extract_text

    text, gold = _load("001")
    monkeypatch.setattr(llm_engine, "shared_llm", lambda config: GoldLLM(gold))
    result = extract_text(text, RunConfig(engine="hybrid", use_cache=False))
    assert result.status == "ok" and result.meta["engine"] == "hybrid"
    assert {ev.reader for ev in result.evidence.values()} == {"template"}
    assert result.meta["llm"]["calls"] == 1
    assert "template_read" in result.meta["timings_s"] and "llm_header" in result.meta["timings_s"]


def test_repair_settles_a_disagreement_when_the_reasked_value_is_grounded() -> None:
    text, gold = _load("000")
    assert gold.applications is not None
    fake = GoldLLM(gold, wrong={"applications.new_received[0]": [98]})
    out, _ = _read(text, fake, MisreadingTemplate({"applications.new_received[0]": 99}))
    assert fake.asked_sections() == [["new_received"], ["new_received"]]
    assert f"- 本年新收：原文 [{gold.applications['new_received'][0]}," in fake.history[1].user
    assert out.report.applications is not None
    assert out.report.applications["new_received"][0] == gold.applications["new_received"][0]
    assert out.producers["applications.new_received[0]"] == "llm"
    assert not [f for f in out.findings if f.rule == "X-DISAGREE"]
    assert out.meta["llm"]["repair_rounds"] == 1


def test_without_repair_the_disagreement_stays_flagged_with_the_template_value() -> None:
    text, gold = _load("000")
    fake = GoldLLM(gold, wrong={"applications.new_received[0]": [98]})
    out, _ = _read(text, fake, MisreadingTemplate({"applications.new_received[0]": 99}), max_repair_rounds=0)
    assert out.report.applications is not None and out.report.applications["new_received"][0] == 99
    flagged = [f for f in out.findings if f.rule == "X-DISAGREE"]
    assert [f.cells for f in flagged] == [["applications.new_received[0]"]]
    assert "规则读取为 99，模型读取为 98" in flagged[0].message
