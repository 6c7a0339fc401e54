"""Orchestration of ``--engine llm``: section questions, the checker-driven repair loop, cache and failures.

The model is a scripted fake (tests/fake_llm.py) that answers from the hand-labelled gold; grounding,
the checker, the template spec, the prompts and the disk cache are the real ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.backends.client import CachedLLM
from extractor.config import RunConfig
from extractor.engines.llm_engine import LLMEngine
from extractor.errors import LLMError
from extractor.llm_cache import LLMCache
from extractor.normalize import normalize
from extractor.prompting import prompt_version
from extractor.schema import Report, iter_cells
from extractor.sections import analyze_layout
from extractor.verify import verify
from fake_llm import CountingFactory, GoldLLM
from tests.shared_data import SHARED

SEED = "001_8d25aa58008aa371"

FIRST_PASS = [
    ["agency", "year"],
    ["regulations", "normative_documents", "licensing", "punishment", "coercion", "fees"],
    None,  # table 三: 25 row keys
    ["numbers"],
]


def _load(kind: str, name: str) -> tuple[str, Report]:
    text_dir, gold_dir = (SHARED / "seeds", SHARED / "gold") if kind == "seed" else (SHARED / "devset", SHARED / "devset")
    text = (text_dir / f"{name}.txt").read_text(encoding="utf-8")
    gold = Report.model_validate(json.loads((gold_dir / f"{name}.json").read_text(encoding="utf-8")))
    return text, gold


def _read(text: str, llm: object, **config: object):  # type: ignore[no-untyped-def]
    norm = normalize(text)
    layout = analyze_layout(norm)
    factory = CountingFactory(llm)
    out = LLMEngine(factory).read(norm, layout, RunConfig(engine="llm", use_cache=False, **config))  # type: ignore[arg-type]
    return out, norm, layout, factory


def _same_cells(a: Report, b: Report) -> dict[str, tuple[object, object]]:
    got, want = dict(iter_cells(a)), dict(iter_cells(b))
    return {p: (got.get(p), v) for p, v in want.items() if got.get(p) != v}


def test_clean_answers_fill_the_report_section_by_section_without_repair() -> None:
    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold)
    out, _, _, factory = _read(text, fake)
    asked = fake.asked_sections()
    assert len(asked) == 4
    for want, got in zip(FIRST_PASS, asked):
        if want is not None:
            assert got == want
    assert len(asked[2]) == 25 and asked[2][0] == "new_received" and asked[2][-1] == "carried_forward"
    assert _same_cells(out.report, gold) == {}
    assert out.report.year == 2022 and out.report.template == "2021"
    assert set(out.producers.values()) == {"llm"}
    meta = out.meta["llm"]
    assert meta["model"] == "fake:gold" and meta["prompt_version"] == prompt_version()
    assert meta["tokens_in"] > 1000 and meta["tokens_out"] > 0 and meta["calls"] == 4
    assert meta["repair_rounds"] == 0 and meta["cache_hits"] == 0
    assert {"llm_header", "llm_section2", "llm_section3", "llm_section4", "llm_read"} <= set(out.meta["timings_s"])
    assert factory.created == 1 and fake.closed == 1
    # what each kind of call cost adds up to the report's totals
    by_section = meta["by_section"]
    assert list(by_section) == ["header", "section2", "section3", "section4"]
    assert sum(u["tokens_in"] for u in by_section.values()) == meta["tokens_in"]
    assert sum(u["tokens_out"] for u in by_section.values()) == meta["tokens_out"]
    assert all(u["calls"] == 1 and u["seconds"] >= 0 for u in by_section.values())


def test_the_header_is_asked_only_when_the_layout_cannot_name_agency_and_year() -> None:
    text, gold = _load("devset", "d025")
    fake = GoldLLM(gold.model_copy(update={"agency": "不该用到的机关"}))
    out, _, layout, _ = _read(text, fake)
    assert layout.agency is not None and layout.year is not None
    assert ["agency", "year"] not in fake.asked_sections()
    assert (out.report.agency, out.report.year) == (layout.agency, layout.year)


def test_each_section_sees_only_its_own_text() -> None:
    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold)
    _read(text, fake)
    section2, section3, section4 = (a.user for a in fake.history[1:4])
    assert "本年制发件数" in section2 and "本年新收政府信息公开申请数量" not in section2.split("示例答案")[-1]
    assert "本年新收政府信息公开申请数量" in section3 and "本年制发件数" not in section3.split("示例答案")[-1]
    assert "结果维持" in section4 and "本年新收" not in section4.split("示例答案")[-1]


def test_wrong_numbers_are_reasked_only_in_their_rows_with_the_findings_as_feedback() -> None:
    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold, wrong={"applications.granted[0]": 9, "review_litigation.litigation_direct.upheld": 7})
    out, norm, layout, _ = _read(text, fake)
    repair_questions = fake.history[4:]
    assert [q.keys for q in repair_questions] == [["granted"], ["numbers"]]
    feedback = repair_questions[0].user
    assert "- 予以公开：原文 [1," in feedback and "（上次写成 [9," in feedback
    # the re-asked row is shown with the lines around it, not the whole table again
    shown = feedback.split("<<<")[1].split(">>>")[0]
    assert "(一)予以公开" in shown and "本年新收" not in shown and "结转下年度" not in shown
    assert len(repair_questions[0].user) < len(fake.history[2].user) / 2
    # grounding's own finding restates the cell's evidence: it is not sent a second time
    assert "与提取值不符" not in feedback
    assert "- numbers：原文 [0,0,0,0,0,1," in repair_questions[1].user
    assert "（上次写成 [0,0,0,0,0,7," in repair_questions[1].user
    assert _same_cells(out.report, gold) == {}
    assert out.meta["llm"]["repair_rounds"] == 1
    _, evidence = verify(out.report, norm, layout)
    assert all(ev.status in ("grounded", "blank") for ev in evidence.values())


def test_report_errors_are_never_sent_back_to_the_model() -> None:
    # d025 prints 行政复议 维持 1 but 总计 0: grounded numbers that do not add up (the report's own error)
    text, gold = _load("devset", "d025")
    fake = GoldLLM(gold)
    out, norm, layout, _ = _read(text, fake)
    findings, _ = verify(out.report, norm, layout)
    assert any(f.rule == "R4.1" and f.attribution == "report" for f in findings)
    assert out.meta["llm"]["repair_rounds"] == 0 and "repair" not in out.meta["llm"]["by_section"]
    assert len(fake.history) == 3  # 二, 三, 四 and no repair question at all
    assert out.report.review_litigation is not None and out.report.review_litigation.review is not None
    assert out.report.review_litigation.review.total == 0  # the printed total is kept, never "balanced"


def test_repair_rounds_are_bounded_and_an_unfixed_cell_stays_flagged() -> None:
    text, gold = _load("seed", SEED)
    # granted[0] is wrong once; granted[6] is wrong on three answers in a row
    wrong = {"applications.granted[0]": [9], "applications.granted[6]": [5, 4, 3]}
    fake = GoldLLM(gold, wrong=wrong)
    out, norm, layout, _ = _read(text, fake, max_repair_rounds=1)
    assert [q.keys for q in fake.history[4:]] == [["granted"]]
    assert out.meta["llm"]["repair_rounds"] == 1
    assert out.report.applications is not None
    assert out.report.applications["granted"][0] == 1  # fixed: the re-asked value is grounded
    assert out.report.applications["granted"][6] == 5  # 4 is no better grounded than 5: the first answer stays
    _, evidence = verify(out.report, norm, layout)
    assert evidence["applications.granted[6]"].status == "mismatch"

    fake_no_repair = GoldLLM(gold, wrong={"applications.granted[0]": 9})
    out, _, _, _ = _read(text, fake_no_repair, max_repair_rounds=0)
    assert len(fake_no_repair.history) == 4 and out.meta["llm"]["repair_rounds"] == 0


def test_a_round_that_improves_nothing_ends_the_loop() -> None:
    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold, wrong={"applications.granted[0]": 9}, wrong_times=10)
    out, _, _, _ = _read(text, fake, max_repair_rounds=3)
    assert [q.keys for q in fake.history[4:]] == [["granted"]]
    assert out.report.applications is not None and out.report.applications["granted"][0] == 9


def test_the_cache_makes_a_rerun_free(tmp_path: Path) -> None:
    text, gold = _load("seed", SEED)
    norm = normalize(text)
    layout = analyze_layout(norm)
    config = RunConfig(engine="llm", cache_dir=tmp_path)
    first = GoldLLM(gold)
    LLMEngine(lambda c: CachedLLM(first, LLMCache.open(c.cache_dir))).read(norm, layout, config)
    assert len(first.history) == 4

    second = GoldLLM(gold)
    out = LLMEngine(lambda c: CachedLLM(second, LLMCache.open(c.cache_dir))).read(norm, layout, config)
    assert second.history == []
    assert out.meta["llm"]["cache_hits"] == 4 and out.meta["llm"]["tokens_in"] == 0
    assert _same_cells(out.report, gold) == {}

    # another source text is another question
    other_text = text.replace("28 |", "27 |", 1)
    third = GoldLLM(gold)
    other_norm = normalize(other_text)
    LLMEngine(lambda c: CachedLLM(third, LLMCache.open(c.cache_dir))).read(other_norm, analyze_layout(other_norm), config)
    assert len(third.history) >= 1


def test_an_invalid_answer_leaves_its_section_blank_with_a_finding() -> None:
    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold, fail_on={"new_received": LLMError("fake: no schema-valid answer", attempts=3)})
    out, _, _, _ = _read(text, fake, max_repair_rounds=0)
    assert out.report.applications is not None
    assert all(v is None for row in out.report.applications.values() if row for v in row)
    assert out.report.review_litigation is not None and out.report.review_litigation.litigation_direct is not None
    assert out.report.review_litigation.litigation_direct.upheld == 1
    failures = [f for f in out.findings if f.rule == "X-LLM"]
    assert len(failures) == 1 and failures[0].attribution == "extraction" and "三、申请处理" in failures[0].message


def test_an_endpoint_that_stays_down_fails_the_report() -> None:
    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold, fail_on={"agency": LLMError("fake: HTTP 503 after 4 attempts", retryable=True)})
    with pytest.raises(LLMError):
        _read(text, fake)
    assert fake.closed == 1


def test_the_pipeline_runs_the_llm_engine_and_reports_its_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.engines import llm_engine
    from extractor.pipeline import extract_text

    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold, wrong={"applications.total[6]": 30})
    monkeypatch.setattr(llm_engine, "shared_llm", lambda config: fake)
    result = extract_text(text, RunConfig(engine="llm", use_cache=False))
    assert result.status == "ok"
    assert result.meta["engine"] == "llm" and result.meta["llm"]["repair_rounds"] == 1
    assert result.report.applications is not None and result.report.applications["total"][6] == 29
    assert result.evidence["applications.total[6]"].status == "grounded"
    assert result.evidence["applications.total[6]"].reader == "llm"
    assert {"read", "verify", "llm_section3", "llm_repair"} <= set(result.meta["timings_s"])


def test_sections_asked_concurrently_give_the_same_report() -> None:
    text, gold = _load("seed", SEED)
    fake = GoldLLM(gold)
    out, _, _, factory = _read(text, fake, concurrency=3)
    assert sorted(len(k) for k in fake.asked_sections()) == [1, 2, 6, 25]
    assert _same_cells(out.report, gold) == {}
    assert out.meta["llm"]["calls"] == 4 and factory.created == 1
