"""Loading samples from any directory laid out as NAME.json beside NAME.<source>, and the Markdown report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.schema import empty_report

from evals.dataset import DEFAULT_SAMPLES_DIR, load_dir, load_dirs
from evals.report_md import render_markdown
from tests.shared_data import SHARED_IS_ORIGINAL


def _gold_json(**extra: object) -> str:
    data = empty_report("2021").canonical()
    data.update(agency="某某局", year=2022)
    data.update(extra)
    return json.dumps(data, ensure_ascii=False)


def test_load_dir_pairs_gold_with_one_source_and_records_problems(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(_gold_json(), encoding="utf-8")
    (tmp_path / "a.txt").write_text("text", encoding="utf-8")
    (tmp_path / "b.json").write_text(_gold_json(), encoding="utf-8")  # no source
    (tmp_path / "c.json").write_text('{"agency": "x", "applications": {"nonsense_row": [1]}}', encoding="utf-8")
    (tmp_path / "c.txt").write_text("text", encoding="utf-8")
    (tmp_path / "d.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "d.txt").write_text("text", encoding="utf-8")
    (tmp_path / "e.json").write_text(_gold_json(findings=[], evidence={}, meta={"who": "ui"}), encoding="utf-8")
    (tmp_path / "e.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "e.txt").write_text("text", encoding="utf-8")
    (tmp_path / "e.notes.md").write_text("notes", encoding="utf-8")

    ds = load_dir(tmp_path)
    assert [(s.name, s.source.name, [a.name for a in s.alternates]) for s in ds.samples] == [
        ("a", "a.txt", []),
        ("e", "e.txt", ["e.pdf"]),  # text first; a UI-confirmed record's findings/evidence/meta are ignored
    ]
    assert ds.samples[0].gold.agency == "某某局" and ds.samples[0].gold.year == 2022
    problems = {p.path.name: p.reason for p in ds.problems}
    assert set(problems) == {"b.json", "c.json", "d.json"}
    assert "no source" in problems["b.json"] and "not a valid gold" in problems["c.json"]


def test_two_directories_keep_names_unique(tmp_path: Path) -> None:
    for sub in ("one", "two"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "x.json").write_text(_gold_json(), encoding="utf-8")
        (tmp_path / sub / "x.txt").write_text("text", encoding="utf-8")
    ds = load_dirs([tmp_path / "one", tmp_path / "two", tmp_path / "missing"])
    assert [s.name for s in ds.samples] == ["x", "two/x"]
    assert [p.reason for p in ds.problems] == ["not a directory"]


@pytest.mark.skipif(not SHARED_IS_ORIGINAL, reason="compares evals/samples with ../shared, which is not beside this checkout")
def test_project_samples_are_the_shared_seeds_and_devset(shared_dir: Path) -> None:
    ds = load_dir(DEFAULT_SAMPLES_DIR)
    assert ds.problems == []
    names = {s.name for s in ds.samples}
    seeds = {p.stem for p in (shared_dir / "seeds").glob("*.txt")}
    devset = {p.stem for p in (shared_dir / "devset").glob("d*.json")}
    assert names == seeds | devset | {"d014_html", "d001_pdf"}
    by_name = {s.name: s for s in ds.samples}
    assert by_name["d014_html"].source.suffix == ".html" and by_name["d001_pdf"].source.suffix == ".pdf"
    for s in ds.samples:
        # each gold is the shared one, byte for byte
        origin = shared_dir / "gold" / f"{s.name}.json" if s.name in seeds else shared_dir / "devset" / f"{s.name.split('_')[0]}.json"
        assert s.gold_path.read_bytes() == origin.read_bytes(), s.name
        assert not s.alternates


def test_markdown_has_engine_tables_comparison_and_worst_cells() -> None:
    per_engine = {
        "reports": 2, "cell_accuracy": 0.9, "nonzero_accuracy": 0.8, "false_nonzero": 1, "reports_exact": 1,
        "flag_recall": 0.5, "flag_precision": None, "seconds_per_report": 0.25, "reports_failed": 0,
        "cell_accuracy_by_section": {"二": 1.0, "三": 0.85, "四": 1.0}, "failed_samples": [],
    }
    baseline = dict(per_engine, cell_accuracy=0.6, reports_exact=0, reports_failed=1,
                    failed_samples=[{"sample": "d004", "status": "exception", "error": "LLMError: timeout"}])
    result = {
        "samples": ["001", "d004"], "options": {"model": None},
        "engines": {"template": per_engine, "baseline": baseline},
        "per_report": [
            {"engine": "template", "sample": "001", "status": "ok", "cell_accuracy": 0.95, "wrong_cells": [
                {"path": "applications.total[0]", "label": "（七）总计（自然人）", "gold": 26, "pred": 20, "flagged": True}]},
            {"engine": "baseline", "sample": "d004", "status": "exception", "error": "LLMError: timeout", "cell_accuracy": 0.0, "wrong_cells": []},
            {"engine": "template", "sample": "d004", "status": "ok", "cell_accuracy": 1.0, "wrong_cells": []},
        ],
        "checker": {},
    }
    md = render_markdown(result)
    assert "### template" in md and "### baseline" in md
    assert "| 单元格准确率 cell accuracy | 90.0% | 60.0% | +30.0 pt |" in md
    assert "| 标记准确率 flag precision | — | — | — |" in md
    assert "| （七）总计（自然人） | `applications.total[0]` | 26 | 20 | ✓ |" in md
    assert "LLMError: timeout" in md
    # the exactly-read report is not among the worst
    assert "template · d004" not in md
    assert md.index("baseline · d004") < md.index("template · 001")
    assert "Answers replayed" not in md  # nothing replayed, no caveat

    baseline["cache_hits"] = 3
    assert "Answers replayed from the LLM cache (baseline)" in render_markdown(result)


@pytest.mark.skipif(not SHARED_IS_ORIGINAL, reason="compares evals/samples with ../shared, which is not beside this checkout")
def test_samples_dir_matches_shared_copies_of_sources(shared_dir: Path) -> None:
    # the html/pdf samples are the devset originals, unchanged
    assert (DEFAULT_SAMPLES_DIR / "d014_html.html").read_bytes() == (shared_dir / "devset" / "d014.html").read_bytes()
    assert (DEFAULT_SAMPLES_DIR / "d001_pdf.pdf").read_bytes() == (shared_dir / "devset" / "d001.pdf").read_bytes()
