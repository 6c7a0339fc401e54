"""``nianbao batch --engine llm`` against a real local HTTP server speaking the OpenAI protocol:
an endpoint that keeps failing is recorded per file and retried by --resume; settings that can
work for no file stop the batch with a clear message instead of failing every file."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from extractor.batch.results_log import read_results
from extractor.cli import main
from tests.shared_data import SHARED

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((SHARED / "seeds").glob("*.txt"))[:2]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from openai_stub_server import StubOpenAI  # noqa: E402

pytestmark = pytest.mark.skipif(len(SEEDS) < 2, reason="shared seeds not found")


@pytest.fixture
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("NIANBAO_BASE_URL", "OPENAI_BASE_URL", "NIANBAO_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NIANBAO_CACHE_DIR", str(tmp_path / "cache"))


def test_failing_endpoint_is_recorded_per_file_and_resume_retries_it(no_endpoint_env: None, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    with StubOpenAI() as stub:  # an empty script answers HTTP 500 to everything
        monkeypatch.setenv("NIANBAO_BASE_URL", stub.base_url)
        monkeypatch.setenv("NIANBAO_API_KEY", "test-key")
        args = [*map(str, SEEDS), "--out", str(out), "--engine", "llm", "--model", "openai:stub", "-j", "2"]
        assert main(["batch", *args]) == 0  # the batch ran; its files failed
        first = read_results(out / "results.jsonl").records
        asked_first = len(stub.chat_requests)

        assert sorted(r["source_path"] for r in first) == sorted(str(p.resolve()) for p in SEEDS)
        for r in first:
            assert r["status"] == "failed" and r["retryable"] is True and r["error_type"] == "LLMError"
            assert "500" in r["error"]
            assert r["settings"] == {"engine": "llm", "model": "openai:stub", "prompt_version": r["settings"]["prompt_version"]}
            assert r["settings"]["prompt_version"]
        printed = capsys.readouterr().out
        assert "失败 failed" in printed and "500" in printed
        assert "test-key" not in (out / "results.jsonl").read_text(encoding="utf-8")

        assert main(["batch", *args, "--resume"]) == 0
        assert len(stub.chat_requests) > asked_first  # the transient failures were tried again
    lines = read_results(out / "results.jsonl").records
    assert len(lines) == 4
    with open(out / "reports.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2  # the latest line of each path


def test_settings_that_cannot_work_stop_the_batch_without_recording_files(no_endpoint_env: None, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["batch", *map(str, SEEDS), "--out", str(out), "--engine", "llm", "--model", "openai:gpt-x", "-j", "1"])
    assert code == 2  # ConfigError: no key and no base URL
    err = capsys.readouterr().err
    assert "批处理已停止" in err and "NIANBAO_API_KEY" in err
    assert read_results(out / "results.jsonl").records == []  # nothing recorded: --resume reads them all


@pytest.mark.slow
def test_first_ctrl_c_waits_for_work_in_flight_and_second_exits_at_once(no_endpoint_env: None, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import time

    from openai_stub_server import Reply

    out = tmp_path / "out"
    with StubOpenAI() as stub:
        stub.enqueue(*[Reply.hang(60) for _ in range(4)])  # a model that takes a minute per answer
        env = dict(os.environ, NIANBAO_BASE_URL=stub.base_url, NIANBAO_API_KEY="k", PYTHONPATH=str(REPO))
        proc = subprocess.Popen(
            [sys.executable, "-c", "from extractor.cli import run; run()", "batch", *map(str, SEEDS),
             "--out", str(out), "--engine", "llm", "--model", "openai:stub", "-j", "1"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not stub.chat_requests and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert stub.chat_requests, "the batch never asked the model"
        proc.send_signal(signal.SIGINT)
        time.sleep(1.5)
        assert proc.poll() is None  # still waiting for the answer in flight
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
        assert time.monotonic() - started < 10
    assert proc.returncode == 130
    assert "再按一次 Ctrl-C 立即退出" in stderr.decode()
    assert read_results(out / "results.jsonl").records == []  # nothing half-done was recorded
