"""Hybrid without a model: when the model server dies, times out or refuses, the report still comes back.

The servers here are real child processes that a test kills with SIGKILL while they hold a request, or
ports where nothing listens; the client, the template reader, grounding, the checker, the CLI, the batch
and the UI service are all real. The llm and baseline engines still fail such a report, as before.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from extractor.backends.client import Endpoint, OpenAICompatLLM
from extractor.backends.llama_server import LlamaServer
from extractor.cli import main
from extractor.config import RunConfig
from extractor.engines.hybrid_engine import HybridEngine
from extractor.engines.template_engine import TemplateEngine
from extractor.findings import doubted_cells
from extractor.normalize import normalize
from extractor.sections import analyze_layout
from extractor.verify import verify
from tests.shared_data import SAMPLES

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from hanging_server import kill_when_asked  # noqa: E402

# Seed 001 with its 「2.其他法律行政法规禁止公开」 row (label and seven values) cut out: no reading finds
# the row's place, so hybrid asks the model about its cells (a glued run the text cannot split it would not ask).
SEED = SAMPLES / "001_8d25aa58008aa371.txt"
ASKED = {f"applications.denied_law_prohibited[{c}]" for c in range(7)}


def _text() -> str:
    lines = SEED.read_text(encoding="utf-8").split("\n")
    start = lines.index("2.其他法律行政法规禁止公开 |")
    return "\n".join(lines[:start] + lines[start + 8 :])


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "row_dropped.txt"
    path.write_text(_text(), encoding="utf-8")
    return path


class HangingServer(LlamaServer):
    """The local model server's own lifecycle code around a child that hangs on every chat request."""

    def command(self, port_fd: int) -> list[str]:
        return [sys.executable, str(TESTS / "hanging_server.py"), str(self.log_dir / "asked"), str(port_fd)]


@pytest.fixture
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("NIANBAO_BASE_URL", "OPENAI_BASE_URL", "NIANBAO_API_KEY", "OPENAI_API_KEY", "NIANBAO_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NIANBAO_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A loopback URL whose port is held (bound, never listening) for the test: every connection is
    refused, and no other process can start listening there meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/v1"


def test_hybrid_returns_the_template_reading_when_the_model_server_is_killed_mid_request(tmp_path: Path) -> None:
    server = HangingServer(tmp_path / "x.gguf", "stub", tmp_path / "logs", startup_timeout_s=60)
    llm = OpenAICompatLLM(  # wired as client.make_llm wires the embedded model
        model_id="local:stub",
        connect=lambda: Endpoint(base_url=server.start(), api_key=SecretStr("sk-local"), model="stub"),
        timeout_s=120, max_retries=3, max_reasks=0, constrain_schema=True, backoff_base_s=0.01,
        health=server.death_report, on_close=server.stop,
    )
    killer = kill_when_asked(tmp_path / "logs" / "asked")
    text = _text()
    norm, layout = normalize(text), analyze_layout(normalize(text))
    out = HybridEngine(lambda _config: llm).read(norm, layout, RunConfig(engine="hybrid", use_cache=False))
    killer.join(timeout=5)
    assert (tmp_path / "logs" / "asked").exists(), "the model was never asked, so nothing died mid-request"
    assert not server.running

    template = TemplateEngine().read(norm, layout, RunConfig())
    assert out.report.canonical() == template.report.canonical()
    assert set(out.producers.values()) == {"template"}
    (finding,) = [f for f in out.findings if f.rule == "X-NO-MODEL"]
    assert "model not consulted" in finding.message and "exited with code -9" in finding.message
    assert finding.attribution == "extraction" and finding.severity == "warning"
    assert set(finding.cells) == ASKED
    assert out.meta["hybrid"]["model_error"] and out.meta["hybrid"]["cells_from_llm"] == 0
    assert not [f for f in out.findings if f.rule in ("X-DISAGREE", "X-LLM")]
    # every cell the model would have been asked about is still flagged after the pipeline's own checks
    findings, evidence = verify(out.report, norm, layout, reader_findings=out.findings, producers=out.producers)
    assert ASKED <= doubted_cells(findings, evidence)


def test_extract_with_hybrid_exits_0_with_the_template_reading_when_the_endpoint_dies(
        no_endpoint_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "asked"
    child = subprocess.Popen([sys.executable, str(TESTS / "hanging_server.py"), str(marker)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())  # the child binds its own port and says which
        _wait_listening(port)
        killer = kill_when_asked(marker)
        code = main(["extract", str(_source(tmp_path)), "--engine", "hybrid", "--model", "openai:stub",
                     "--base-url", f"http://127.0.0.1:{port}/v1", "--json"])
        killer.join(timeout=5)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert marker.exists() and child.returncode == -9
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    (finding,) = [f for f in data["findings"] if f["rule"] == "X-NO-MODEL"]
    assert set(finding["cells"]) == ASKED and "model not consulted" in finding["message"]
    assert data["meta"]["hybrid"]["model_error"]


def test_llm_and_baseline_still_fail_the_report_when_the_endpoint_refuses(
        no_endpoint_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], dead_url: str) -> None:
    dead = dead_url
    for engine in ("llm", "baseline"):
        code = main(["extract", str(_source(tmp_path)), "--engine", engine, "--model", "openai:stub", "--base-url", dead, "--json"])
        assert code == 5, engine
        assert "cannot connect" in capsys.readouterr().err


def test_hybrid_batch_records_every_file_with_the_template_reading_when_the_model_is_unavailable(
        no_endpoint_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dead_url: str) -> None:
    from extractor.batch.results_log import read_results

    dropped = _source(tmp_path)
    files = [dropped, SAMPLES / "d008.txt", SAMPLES / "000_ec29f0aa88fb4260.txt"]
    out = tmp_path / "out"
    monkeypatch.setenv("NIANBAO_BASE_URL", dead_url)
    assert main(["batch", *map(str, files), "--out", str(out), "--engine", "hybrid", "--model", "openai:stub",
                 "-j", "1"]) == 0
    records = {Path(r["source_path"]).name: r for r in read_results(out / "results.jsonl").records}
    assert {r["status"] for r in records.values()} == {"ok"}
    assert [f["rule"] for f in records[dropped.name]["findings"]].count("X-NO-MODEL") == 1
    # a report whose rows all have a place needs no model (d008's undecided glued run is not asked), so
    # it says nothing about one
    for name in ("d008.txt", "000_ec29f0aa88fb4260.txt"):
        assert "X-NO-MODEL" not in [f["rule"] for f in records[name]["findings"]], name


def test_the_review_ui_shows_the_template_reading_and_the_finding_when_the_model_is_unavailable(
        no_endpoint_env: None, tmp_path: Path, dead_url: str) -> None:
    from extractor.review_store import ReviewStore
    from ui.service import ReviewService

    dead = dead_url
    service = ReviewService(
        ReviewStore(tmp_path / "review.sqlite"), default_engine="hybrid",
        config_factory=lambda engine: RunConfig(engine=engine, model="openai:stub", base_url=dead,  # type: ignore[arg-type]
                                                use_cache=False, max_retries=1),
    )
    session = service.extract(service.load_upload(_source(tmp_path)), "hybrid")
    assert session.status == "ok" and session.error is None
    (finding,) = [f for f in session.extraction_doubts if f.rule == "X-NO-MODEL"]
    assert set(finding.cells) == ASKED and finding.message.startswith("未咨询模型")


def _wait_listening(port: int, timeout_s: float = 30.0) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.model
def test_hybrid_keeps_the_report_when_the_real_embedded_model_server_is_killed_mid_request() -> None:
    """The real llama.cpp server, SIGKILLed while it reads the first prompt of d004."""
    import threading
    import time

    from extractor.backends import llama_server
    from extractor.backends.client import make_llm
    from extractor.backends.embedded_model import ensure_model
    from extractor.config import default_cache_dir

    name = "qwen2.5-coder-0.5b"
    cache = default_cache_dir()
    gguf = ensure_model(name, cache, progress=print)
    server = llama_server.shared_server(gguf, name, cache / "logs")
    llm = make_llm(RunConfig(model=f"local:{name}", use_cache=False, cache_dir=cache, timeout_s=600), progress=print)
    killed: list[int] = []

    def kill_once_serving() -> None:
        import urllib.request

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(server.base_url + "/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (RuntimeError, OSError):  # not started yet, or still loading
                time.sleep(0.1)
        time.sleep(1.0)  # the first question went out as soon as the server answered; its prompt takes seconds
        proc = server._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            killed.append(proc.pid)

    killer = threading.Thread(target=kill_once_serving, daemon=True)
    killer.start()
    text = _text()
    norm, layout = normalize(text), analyze_layout(normalize(text))
    try:
        out = HybridEngine(lambda _config: llm).read(norm, layout, RunConfig(engine="hybrid", use_cache=False))
    finally:
        llm.close()
    killer.join(timeout=5)
    assert killed, "the server was never killed"
    (finding,) = [f for f in out.findings if f.rule == "X-NO-MODEL"]
    assert "stopped during the request" in finding.message and "exited with code -9" in finding.message
    assert set(finding.cells) == ASKED
    assert out.report.canonical() == TemplateEngine().read(norm, layout, RunConfig()).report.canonical()
