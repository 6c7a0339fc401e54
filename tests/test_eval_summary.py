"""The eval summary is a typed record; its JSON keeps the keys, in order, that readers (the Markdown
writer, the console table, eval JSON files in evals/results) look up."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from evals.cli import SUMMARY_KEYS
from evals.dataset import DEFAULT_SAMPLES_DIR, load_dir
from evals.report_md import METRICS
from evals.runner import EvalOptions, EvalRun, run_eval
from evals.summary import EngineSummary, EvalCounts

ROOT = Path(__file__).resolve().parents[1]


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def test_every_metric_a_reader_looks_up_is_a_field() -> None:
    fields = set(_fields(EngineSummary))
    assert {key.split(".")[0] for key, _label, _kind in METRICS} <= fields  # "a.b": key b inside field a
    assert set(SUMMARY_KEYS) <= fields


def test_the_committed_eval_results_have_exactly_the_summary_keys() -> None:
    """The figures in evals/results were written before the summary was typed: same keys, same order."""
    results = sorted((ROOT / "evals" / "results").glob("*.json"))
    assert results, "no committed eval results to compare with"
    for path in results:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert list(data) == _fields(EvalRun), path.name
        for name, figures in data["engines"].items():
            extra = [k for k in figures if k not in _fields(EngineSummary)]
            assert list(figures)[:len(figures) - len(extra)] == [k for k in _fields(EngineSummary) if k in figures], (path.name, name)
            assert set(figures["counts"]) == set(_fields(EvalCounts)), (path.name, name)


def test_a_run_is_typed_and_reads_as_its_json(tmp_path: Path) -> None:
    for path in DEFAULT_SAMPLES_DIR.glob("001_8d25aa58008aa371.*"):
        shutil.copyfile(path, tmp_path / path.name)
    run = run_eval(load_dir(tmp_path), EvalOptions(engines=["template"], mutations=1))
    summary = run.engines["template"]
    assert isinstance(summary, EngineSummary) and isinstance(summary.counts, EvalCounts)
    assert summary.reports == 1 and summary.counts.cells == summary["counts"]["cells"] > 0
    data = run.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON values only, nothing left to a default=
    assert list(data["engines"]["template"]) == _fields(EngineSummary)
    assert data["options"] == {"engines": ["template"], "model": None, "mutations": 1, "seed": 0}
    assert dict(summary) == data["engines"]["template"] and run["per_report"] == data["per_report"]
