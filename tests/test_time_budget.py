"""The per-file time budget: a file whose reading never ends is stopped and recorded, in the batch and
in the UI, and the work goes on. The endless step is injected (tests/hostile/slow.py spins in pure
Python without calling back) and the worker runs the real pipeline for every other file."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from extractor.batch.results_log import read_results
from extractor.batch.runner import BatchRunner
from extractor.config import RunConfig
from extractor.errors import ConfigError
from extractor.review_store import ReviewStore
from extractor.time_budget import FILE_TIMEOUT_ENV, BudgetedWorker, FileTimeoutError, file_budget_s
from tests.hostile.slow import extract_or_hang, process_file_or_hang
from tests.shared_data import SHARED
from ui.service import ExtractionCancelled, ReviewService

SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)
SEED_002 = next((SHARED / "seeds").glob("002_*.txt"), None)
needs_seeds = pytest.mark.skipif(SEED_001 is None or SEED_002 is None, reason="shared seeds not present")
BUDGET_S = 3.0


def test_budget_comes_from_the_option_the_environment_or_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FILE_TIMEOUT_ENV, raising=False)
    assert file_budget_s("template") == 300 and file_budget_s("llm") == 1800
    monkeypatch.setenv(FILE_TIMEOUT_ENV, "45")
    assert file_budget_s("hybrid") == 45
    assert file_budget_s("hybrid", 10) == 10
    assert file_budget_s("template", 0) is None  # 0: no budget
    monkeypatch.setenv(FILE_TIMEOUT_ENV, "soon")
    with pytest.raises(ConfigError):
        file_budget_s("template")


@needs_seeds
def test_a_batch_stops_a_file_that_never_finishes_and_reads_the_rest(tmp_path: Path) -> None:
    assert SEED_001 is not None and SEED_002 is not None
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = [shutil.copy(SEED_001, inputs / "a.txt"), shutil.copy(SEED_001, inputs / "b_SLOW.txt"),
             shutil.copy(SEED_002, inputs / "c.txt")]
    (inputs / "b_SLOW.txt").write_text(Path(files[1]).read_text(encoding="utf-8") + "\n附：另一份", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    runner = BatchRunner([Path(f).resolve() for f in files], out, RunConfig(engine="template"), jobs=1,
                         time_budget_s=BUDGET_S)
    runner.process = process_file_or_hang
    started = time.perf_counter()
    outcome = runner.run()
    elapsed = time.perf_counter() - started

    lines = {Path(r["source_path"]).name: r for r in read_results(out / "results.jsonl").records}
    assert [lines[n]["status"] for n in ("a.txt", "b_SLOW.txt", "c.txt")] == ["ok", "failed", "ok"]
    slow = lines["b_SLOW.txt"]
    assert slow["error_type"] == "FileTimeoutError" and "超时" in slow["error"] and slow["retryable"] is False
    assert outcome.processed == 3
    # the budget, two worker starts and two real reports; the endless file alone would never end
    assert elapsed < BUDGET_S + 60


@needs_seeds
def test_the_ui_stops_an_extraction_past_its_budget_and_the_next_one_works(tmp_path: Path) -> None:
    service = ReviewService(ReviewStore(tmp_path / "r.sqlite"), time_budget_s=BUDGET_S)
    service.extract_fn = extract_or_hang
    stages: list[str] = []
    started = time.perf_counter()
    with pytest.raises(FileTimeoutError) as info:
        service.extract(service.load_input("SLOW 年度报告", None), "template",
                        progress=lambda stage, fraction: stages.append(stage))
    assert BUDGET_S <= time.perf_counter() - started < BUDGET_S + 30
    assert "read" in stages  # progress crossed from the worker before it hung
    assert "超时" in (info.value.hint_zh or "")
    assert SEED_001 is not None
    session = service.extract(service.load_input(SEED_001.read_text(encoding="utf-8"), None), "template")
    assert session.status == "ok" and session.report.applications["new_received"] == [28, 1, 0, 0, 0, 0, 29]


def test_cancelling_an_extraction_kills_it_at_once(tmp_path: Path) -> None:
    service = ReviewService(ReviewStore(tmp_path / "r.sqlite"), time_budget_s=600)
    service.extract_fn = extract_or_hang
    token = service.cancel_token("s")
    threading.Timer(1.0, token.set).start()
    started = time.perf_counter()
    with pytest.raises(ExtractionCancelled):
        service.extract(service.load_input("SLOW 年度报告", None), "template", cancel=token)
    assert time.perf_counter() - started < 30  # not the 600 s budget: the worker was killed


def test_a_worker_that_dies_is_one_error_and_is_replaced() -> None:
    import os
    import signal

    from extractor.time_budget import WorkerDiedError

    worker = BudgetedWorker()
    try:
        pid = worker.run(os.getpid, budget_s=30)
        with pytest.raises(WorkerDiedError, match="signal"):
            worker.run(os.kill, pid, signal.SIGKILL, budget_s=30)  # as the kernel's OOM killer would
        assert worker.run(os.getpid, budget_s=30) != pid
    finally:
        worker.close()


def test_errors_raised_in_the_worker_arrive_whole(tmp_path: Path) -> None:
    from extractor.errors import InputError
    from extractor.ingest import load_path

    worker = BudgetedWorker()
    try:
        with pytest.raises(InputError) as info:
            worker.run(load_path, str(tmp_path / "missing.txt"), budget_s=30)
        assert info.value.hint_zh == "文件不存在"
        assert worker.alive  # an ordinary error keeps the worker
    finally:
        worker.close()
