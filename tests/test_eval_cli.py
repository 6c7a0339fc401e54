"""``nianbao eval`` end to end with the real template engine, grounding and checker."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from extractor.cli import main
from extractor.config import RunConfig
from extractor.pipeline import extract_path

from evals.dataset import DEFAULT_SAMPLES_DIR

REQUIRED_ENGINE_KEYS = ("reports", "cell_accuracy", "nonzero_accuracy", "false_nonzero", "reports_exact",
                        "flag_recall", "flag_precision", "seconds_per_report")
ALL_ENGINE_KEYS = REQUIRED_ENGINE_KEYS + (
    "cell_accuracy_by_section", "reports_failed", "agency_accuracy", "year_accuracy", "template_accuracy",
    "attribution_accuracy", "mutation_detection", "hallucination_detection", "tokens_in_per_report",
    "tokens_out_per_report", "retries")


def _copy_sample(name: str, dest: Path) -> None:
    for path in DEFAULT_SAMPLES_DIR.glob(f"{name}.*"):
        shutil.copyfile(path, dest / path.name)


def test_eval_writes_json_and_markdown_with_the_required_keys(tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    _copy_sample("001_8d25aa58008aa371", samples)
    _copy_sample("d025", samples)
    out_json, out_md = tmp_path / "out" / "eval.json", tmp_path / "out" / "eval.md"
    code = main(["eval", str(samples), "--engine", "template", "--json", str(out_json), "--md", str(out_md), "--mutations", "2"])
    assert code == 0
    result = json.loads(out_json.read_text(encoding="utf-8"))
    engine = result["engines"]["template"]
    assert list(engine)[:len(REQUIRED_ENGINE_KEYS)] == list(REQUIRED_ENGINE_KEYS)
    assert set(ALL_ENGINE_KEYS) <= set(engine)
    assert engine["reports"] == 2
    assert 0.0 <= engine["cell_accuracy"] <= 1.0 and 0.0 <= engine["flag_recall"] <= 1.0
    assert engine["seconds_per_report"] > 0
    assert set(engine["cell_accuracy_by_section"]) == {"二", "三", "四"}
    assert [r["sample"] for r in result["per_report"]] == ["001_8d25aa58008aa371", "d025"]
    for r in result["per_report"]:
        assert r["engine"] == "template" and r["status"] == "ok"
        assert r["cells"] == 200
        for wrong in r["wrong_cells"]:
            assert set(wrong) >= {"path", "gold", "pred", "flagged"}
    checker = result["checker"]
    assert 1 <= checker["mutations"] <= 4 and len(checker["outcomes"]) == checker["mutations"]
    assert engine["mutation_detection"] == checker["detection_rate"]
    md = out_md.read_text(encoding="utf-8")
    assert "### template" in md and "单元格准确率 cell accuracy" in md and "Checker mutation test" in md


def test_eval_goes_on_past_reports_that_fail(tmp_path: Path) -> None:
    _copy_sample("001_8d25aa58008aa371", tmp_path)
    gold = (DEFAULT_SAMPLES_DIR / "001_8d25aa58008aa371.json").read_text(encoding="utf-8")
    (tmp_path / "chat.txt").write_text("今天天气很好，我们去公园散步吧。没有任何表格。\n" * 5, encoding="utf-8")
    (tmp_path / "chat.json").write_text(gold, encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "binary.json").write_text(gold, encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "broken.txt").write_text("x", encoding="utf-8")
    out = tmp_path / "eval.json"
    assert main(["eval", str(tmp_path), "--json", str(out), "--mutations", "1"]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    engine = result["engines"]["template"]
    assert engine["reports"] == 3 and engine["reports_failed"] == 2
    failed = {f["sample"]: f for f in engine["failed_samples"]}
    assert failed["chat"]["status"] == "not_a_report"
    assert failed["binary"]["status"] == "exception" and "InputError" in failed["binary"]["error"]
    by_sample = {r["sample"]: r for r in result["per_report"]}
    assert by_sample["chat"]["cell_accuracy"] == 0.0 and by_sample["binary"]["cell_accuracy"] == 0.0
    assert by_sample["001_8d25aa58008aa371"]["status"] == "ok"
    assert [p["path"].endswith("broken.json") for p in result["load_problems"]] == [True]


def test_eval_rejects_unknown_engine_and_empty_directory(tmp_path: Path) -> None:
    assert main(["eval", str(tmp_path)]) == 2
    assert main(["eval", str(DEFAULT_SAMPLES_DIR), "--engine", "tempalte"]) == 2


# ---- independent recount: no evals.scoring, only the canonical JSON and a plain loop


def _flat(canonical: dict[str, Any]) -> dict[str, Any]:
    cells: dict[str, Any] = {}
    for section in ("active_disclosure", "review_litigation"):
        for row, fields in (canonical.get(section) or {}).items():
            for name, value in (fields or {}).items():
                cells[f"{section}.{row}.{name}"] = value
    for row, values in (canonical.get("applications") or {}).items():
        for i, value in enumerate(values or []):
            cells[f"applications.{row}[{i}]"] = value
    return cells


def _same(a: Any, b: Any) -> bool:
    a, b = (0 if a is None else a), (0 if b is None else b)
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return str(a).strip() == str(b).strip()


@pytest.mark.slow
def test_template_cell_accuracy_equals_an_independent_recount(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    assert main(["eval", "--engine", "template", "--mutations", "0", "--json", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))

    right = total = 0
    per_sample: dict[str, float] = {}
    for gold_path in sorted(DEFAULT_SAMPLES_DIR.glob("*.json")):
        source = next(p for p in DEFAULT_SAMPLES_DIR.glob(f"{gold_path.stem}.*") if p.suffix != ".json")
        gold = _flat(json.loads(gold_path.read_text(encoding="utf-8")))
        try:
            read = extract_path(source, RunConfig(engine="template"))
            pred = _flat(read.report.canonical()) if read.status == "ok" else None
        except Exception:
            pred = None
        paths = set(gold) | set(pred or {})
        sample_right = 0 if pred is None else sum(_same(gold.get(p), pred.get(p)) for p in paths)
        right += sample_right
        total += len(paths)
        per_sample[gold_path.stem] = sample_right / len(paths)

    engine = result["engines"]["template"]
    assert engine["reports"] == len(per_sample) == 16
    assert engine["cell_accuracy"] == pytest.approx(right / total, abs=1e-12)
    assert {r["sample"]: r["cell_accuracy"] for r in result["per_report"]} == pytest.approx(per_sample, abs=1e-12)


def test_mutations_on_a_real_report_change_one_number_only() -> None:
    import random

    from extractor.pipeline import recheck

    from evals.dataset import load_dir
    from evals.mutations import mutated_report, plan_mutations, render_mutation

    sample = next(s for s in load_dir(DEFAULT_SAMPLES_DIR).samples if s.name == "d025")
    text = sample.source.read_text(encoding="utf-8")
    _, evidence = recheck(sample.gold, text)
    plan = plan_mutations(sample.gold, evidence, text, 6, random.Random(3))
    assert len(plan) == 6
    for m in plan:
        out = render_mutation(text, m)
        assert text[m.start:m.end] == str(m.old)
        assert out[:m.start] == text[:m.start] and out[m.start + len(str(m.new)):] == text[m.end:]
        assert out[m.start:m.start + len(str(m.new))] == str(m.new)
        # the planted number, checked against the text that never printed it, is caught by grounding
        findings, h_evidence = recheck(mutated_report(sample.gold, m), text)
        flagged = h_evidence[m.path].status in ("mismatch", "unsupported") or any(
            f.attribution == "extraction" and m.path in f.cells for f in findings)
        assert flagged, (m, h_evidence[m.path])


def test_eval_of_an_llm_engine_reads_tokens_and_survives_a_dead_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Orchestration only: a real local HTTP server speaking the OpenAI protocol answers the baseline's
    one question for the first report with its gold, and nothing but HTTP 500 for the second."""
    try:
        from tests.openai_stub_server import Reply, StubOpenAI
    except ImportError:  # tests/ is not a package
        from openai_stub_server import Reply, StubOpenAI

    samples = tmp_path / "samples"
    samples.mkdir()
    _copy_sample("001_8d25aa58008aa371", samples)
    _copy_sample("002_0792d5985b785f5a", samples)
    gold = json.loads((samples / "001_8d25aa58008aa371.json").read_text(encoding="utf-8"))
    out = tmp_path / "eval.json"
    with StubOpenAI() as stub:
        stub.enqueue(Reply.json(gold, prompt_tokens=4000, completion_tokens=800))
        monkeypatch.setenv("NIANBAO_BASE_URL", stub.base_url)
        monkeypatch.setenv("NIANBAO_API_KEY", "sk-eval-test")
        monkeypatch.setenv("NIANBAO_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("NIANBAO_TIMEOUT", "5")
        code = main(["eval", str(samples), "-e", "baseline", "-e", "template", "--model", "openai:stub",
                     "--mutations", "0", "--json", str(out)])
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    baseline = result["engines"]["baseline"]
    by_sample = {r["sample"]: r for r in result["per_report"] if r["engine"] == "baseline"}
    assert by_sample["001_8d25aa58008aa371"]["status"] == "ok"
    assert by_sample["001_8d25aa58008aa371"]["cell_accuracy"] == 1.0
    assert (by_sample["001_8d25aa58008aa371"]["tokens_in"], by_sample["001_8d25aa58008aa371"]["tokens_out"]) == (4000, 800)
    assert by_sample["002_0792d5985b785f5a"]["status"] in ("exception", "failed")
    assert by_sample["002_0792d5985b785f5a"]["cell_accuracy"] == 0.0
    assert baseline["reports"] == 2 and baseline["reports_failed"] == 1
    assert baseline["tokens_in_per_report"] == 4000  # the failed read reported no usage
    assert result["engines"]["template"]["reports_failed"] == 0  # the next engine ran on regardless


def test_an_interrupted_eval_keeps_the_reports_already_scored(tmp_path: Path) -> None:
    from evals.dataset import load_dir
    from evals.runner import EvalOptions, run_eval

    for name in ("000_ec29f0aa88fb4260", "001_8d25aa58008aa371", "002_0792d5985b785f5a"):
        _copy_sample(name, tmp_path)
    finished: list[str] = []

    def progress(description: str, advance: int) -> None:
        if advance:
            finished.append(description)
            if len(finished) == 2:
                raise KeyboardInterrupt  # Ctrl-C after the second report

    result = run_eval(load_dir(tmp_path), EvalOptions(engines=["template"], mutations=1), progress)
    assert result["interrupted"] is True
    assert [r["sample"] for r in result["per_report"]] == ["000_ec29f0aa88fb4260", "001_8d25aa58008aa371"]
    assert result["engines"]["template"]["reports"] == 2
    assert result["checker"]["outcomes"] == []


def test_an_engine_that_read_nothing_has_no_flag_recall(tmp_path: Path) -> None:
    from evals.dataset import load_dir
    from evals.runner import aggregate, prepare_sample, score_result

    _copy_sample("001_8d25aa58008aa371", tmp_path)
    ctx = prepare_sample(load_dir(tmp_path).samples[0])
    failed = score_result("llm", ctx, None, "LLMError: endpoint down", 1.5)
    figures = aggregate("llm", [failed], None)
    assert figures["reports_failed"] == 1 and figures["cell_accuracy"] == 0.0
    assert figures["flag_recall"] is None and figures["flag_precision"] is None
    assert figures["seconds_per_report"] == 1.5


def test_eval_reports_prompt_and_answer_tokens_per_report_and_per_kind_of_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Orchestration only (a scripted model that answers from gold): every prompt change must show its
    cost beside its accuracy, so the JSON, the Markdown and the console carry tokens by kind of call."""
    from extractor.engines import llm_engine
    from extractor.schema import Report

    try:
        from tests.fake_llm import GoldLLM
    except ImportError:  # tests/ is not a package
        from fake_llm import GoldLLM

    samples = tmp_path / "samples"
    samples.mkdir()
    _copy_sample("001_8d25aa58008aa371", samples)
    gold = Report.model_validate(json.loads((samples / "001_8d25aa58008aa371.json").read_text(encoding="utf-8")))
    fake = GoldLLM(gold, wrong={"applications.granted[0]": 9})
    monkeypatch.setattr(llm_engine, "shared_llm", lambda config: fake)
    out, md = tmp_path / "eval.json", tmp_path / "eval.md"
    code = main(["eval", str(samples), "-e", "llm", "--mutations", "0", "--json", str(out), "--md", str(md)])
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    llm = result["engines"]["llm"]
    by_kind = llm["tokens_by_section"]
    assert list(by_kind) == ["header", "section2", "section3", "section4", "repair"]
    assert sum(k["tokens_in"] for k in by_kind.values()) == llm["tokens_in_per_report"] > 0
    assert sum(k["tokens_out"] for k in by_kind.values()) == llm["tokens_out_per_report"] > 0
    assert by_kind["repair"]["calls"] == 1
    report = result["per_report"][0]
    assert report["tokens_by_section"]["section3"]["tokens_in"] == by_kind["section3"]["tokens_in"]
    text = md.read_text(encoding="utf-8")
    assert "## 模型用量 Model usage" in text and "| 修复 repair |" in text
    assert f"| 001_8d25aa58008aa371 | {llm['tokens_in_per_report']:,.0f} |" in text
