"""Orchestration of the batch runner: failure isolation, fatal stops, duplicates in flight, stop/resume.

These replace the per-file worker (``BatchRunner.process``) to force timings and faults that the
real pipeline cannot be made to produce on demand; the end-to-end behaviour with the real template
engine is in test_batch_cli.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from extractor.batch.results_log import read_results
from extractor.batch.runner import BatchRunner, BatchSettings, FatalBatchError, failed_record, process_file
from extractor.config import RunConfig
from extractor.errors import ModelUnavailableError


def _files(tmp_path: Path, contents: list[str]) -> list[Path]:
    paths = []
    for i, text in enumerate(contents):
        p = tmp_path / "in" / f"{i:02d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        paths.append(p.resolve())
    return paths


def _ok_worker(delay: float = 0.0, fail_on: str | None = None, fatal_on: str | None = None):
    calls: list[Path] = []
    lock = threading.Lock()

    def work(path: Path, sha: str, config: RunConfig, settings: BatchSettings) -> dict[str, object]:
        with lock:
            calls.append(path)
        if delay:
            time.sleep(delay)
        text = path.read_text(encoding="utf-8")
        if fatal_on and fatal_on in text:
            raise FatalBatchError(ModelUnavailableError("endpoint down", hint_zh="模型服务不可用"))
        if fail_on and fail_on in text:
            raise RuntimeError("worker blew up")
        return {"source_path": str(path), "source_sha256": sha, "settings_key": settings.key,
                "status": "ok", "error": None, "retryable": False, "duplicate_of": None, "agency": text}

    return work, calls


def _lines(out: Path) -> list[dict[str, object]]:
    return read_results(out / "results.jsonl").records


def test_a_worker_exception_becomes_a_failed_line_and_the_batch_goes_on(tmp_path: Path) -> None:
    files = _files(tmp_path, ["a", "BOOM", "c"])
    runner = BatchRunner(files, tmp_path / "out", RunConfig(engine="template"), jobs=2)
    (tmp_path / "out").mkdir()
    runner.process, _ = _ok_worker(fail_on="BOOM")
    outcome = runner.run()
    lines = {r["source_path"]: r for r in _lines(tmp_path / "out")}
    assert set(lines) == {str(p) for p in files}
    assert lines[str(files[1])]["status"] == "failed"
    assert "RuntimeError" in str(lines[str(files[1])]["error"])
    assert outcome.by_status == {"ok": 2, "failed": 1}


def test_a_fatal_error_stops_admission_and_leaves_its_file_for_resume(tmp_path: Path) -> None:
    files = _files(tmp_path, ["a", "DOWN"] + [f"x{i}" for i in range(6)])
    out = tmp_path / "out"
    out.mkdir()
    runner = BatchRunner(files, out, RunConfig(engine="template"), jobs=1)
    runner.process, calls = _ok_worker(fatal_on="DOWN")
    outcome = runner.run()
    assert isinstance(outcome.fatal, ModelUnavailableError)
    assert [r["source_path"] for r in _lines(out)] == [str(files[0])]
    assert len(calls) == 2  # nothing admitted after the fatal error

    again = BatchRunner(files, out, RunConfig(engine="template"), jobs=1, resume=True)
    again.process, calls2 = _ok_worker()
    outcome2 = again.run()
    assert outcome2.fatal is None and outcome2.skipped == 1
    assert calls2 == files[1:]
    assert sorted(r["source_path"] for r in _lines(out)) == sorted(str(p) for p in files)


def test_twin_of_a_file_in_flight_is_written_after_it_and_points_at_it(tmp_path: Path) -> None:
    files = _files(tmp_path, ["same", "same", "other", "same"])
    out = tmp_path / "out"
    out.mkdir()
    runner = BatchRunner(files, out, RunConfig(engine="template"), jobs=4)
    runner.process, calls = _ok_worker(delay=0.3)
    outcome = runner.run()
    lines = _lines(out)
    assert sorted(calls) == [files[0], files[2]]  # the shared content is read once
    order = [r["source_path"] for r in lines]
    assert order.index(str(files[0])) < order.index(str(files[1])) and order.index(str(files[0])) < order.index(str(files[3]))
    dups = [r for r in lines if r["status"] == "duplicate"]
    assert {r["source_path"] for r in dups} == {str(files[1]), str(files[3])}
    assert all(r["duplicate_of"] == str(files[0]) for r in dups)
    assert outcome.duplicates == 2


def test_request_stop_finishes_in_flight_work_and_resume_reads_only_the_rest(tmp_path: Path) -> None:
    files = _files(tmp_path, [f"r{i}" for i in range(12)])
    out = tmp_path / "out"
    out.mkdir()
    runner = BatchRunner(files, out, RunConfig(engine="template"), jobs=2)
    work, calls = _ok_worker(delay=0.05)

    def stopping_work(path: Path, sha: str, config: RunConfig, settings: BatchSettings) -> dict[str, object]:
        if len(calls) >= 4:  # from the fifth admitted file on, as a user's Ctrl-C would
            runner.request_stop()
        return work(path, sha, config, settings)

    runner.process = stopping_work
    outcome = runner.run()
    assert outcome.interrupted
    first = _lines(out)
    assert len(first) == len(calls) < len(files)  # every admitted file was finished and written

    again = BatchRunner(files, out, RunConfig(engine="template"), jobs=2, resume=True)
    again.process, calls2 = _ok_worker()
    again.run()
    assert sorted(calls2) == sorted(set(files) - set(calls))
    paths = [r["source_path"] for r in _lines(out)]
    assert sorted(paths) == sorted(str(p) for p in files) and len(paths) == len(set(paths))


def test_unreadable_file_is_recorded_as_a_retryable_failure(tmp_path: Path) -> None:
    files = _files(tmp_path, ["a"])
    missing = tmp_path / "in" / "vanished.txt"
    out = tmp_path / "out"
    out.mkdir()
    runner = BatchRunner(files + [missing], out, RunConfig(engine="template"))
    runner.process, _ = _ok_worker()
    runner.run()
    line = [r for r in _lines(out) if r["source_path"] == str(missing)][0]
    assert line["status"] == "failed" and line["retryable"] is True
    assert "文件不存在" in str(line["error"])


def test_settings_key_ignores_model_for_the_template_engine_but_not_for_llm_engines() -> None:
    t1 = BatchSettings.from_config(RunConfig(engine="template", model="local:a"))
    t2 = BatchSettings.from_config(RunConfig(engine="template", model="openai:b"))
    l1 = BatchSettings.from_config(RunConfig(engine="llm", model="local:a"))
    l2 = BatchSettings.from_config(RunConfig(engine="llm", model="openai:b"))
    h1 = BatchSettings.from_config(RunConfig(engine="hybrid", model="local:a"))
    assert t1.key == t2.key
    assert len({t1.key, l1.key, l2.key, h1.key}) == 4
    assert l1.prompt_version  # the LLM engines' results depend on the prompts


def test_real_worker_records_input_errors_with_chinese_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    settings = BatchSettings.from_config(RunConfig(engine="template"))
    record = process_file(empty, "e3b0", RunConfig(engine="template"), settings)
    assert record["status"] == "failed" and record["error_type"] == "InputError"
    assert str(record["error"]).startswith("输入为空")
    assert record["retryable"] is False


def test_failed_record_has_the_canonical_shape_with_blank_report() -> None:
    settings = BatchSettings.from_config(RunConfig(engine="template"))
    record = failed_record(Path("/x.txt"), "ab", settings, ValueError("bad"))
    for key in ("agency", "year", "template", "active_disclosure", "applications", "review_litigation",
                "findings", "evidence", "meta", "source_path", "source_sha256", "status", "error", "settings_key"):
        assert key in record
    assert record["applications"] is None and record["findings"] == []


@pytest.mark.parametrize("jobs", [1, 3])
def test_every_file_gets_exactly_one_line(tmp_path: Path, jobs: int) -> None:
    files = _files(tmp_path, [f"doc {i % 7}" for i in range(30)])
    out = tmp_path / "out"
    out.mkdir()
    runner = BatchRunner(files, out, RunConfig(engine="template"), jobs=jobs)
    runner.process, calls = _ok_worker(delay=0.01)
    runner.run()
    paths = [r["source_path"] for r in _lines(out)]
    assert sorted(paths) == sorted(str(p) for p in files)
    assert len(calls) == 7
