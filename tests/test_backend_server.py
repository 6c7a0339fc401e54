"""The local model server's lifecycle with real child processes (no model weights needed)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from extractor.backends import llama_server
from extractor.backends.llama_server import LlamaServer
from extractor.errors import ModelUnavailableError


class SleepyServer(LlamaServer):
    """A child that never reports a port: exercises the startup timeout and the kill path."""

    def command(self, port_fd: int) -> list[str]:
        return [sys.executable, "-c", "import time; print('loading forever', flush=True); time.sleep(60)"]


class StubProcessServer(LlamaServer):
    """A child that serves the OpenAI stub on a port it binds itself and reports as the real server
    does (``server_main.report_port``): exercises start/ready/stop.

    ``script`` maps the start number (1, 2, ...) to the replies that child gives, so a test can
    make the first child die mid-request and the restarted one answer. Each child also writes the
    port it really listens on to ``log_dir/bound-<n>``.
    """

    script: dict[int, str] = {}

    def command(self, port_fd: int) -> list[str]:
        tests_dir = Path(__file__).parent
        counter = self.log_dir / "starts"
        code = (
            f"import sys, time, pathlib; sys.path.insert(0, {str(tests_dir)!r});"
            "from openai_stub_server import StubOpenAI, Reply;"
            "from extractor.backends.server_main import report_port;"
            f"c = pathlib.Path({str(counter)!r}); n = int(c.read_text()) + 1 if c.exists() else 1;"
            "c.write_text(str(n));"
            f"script = {self.script!r};"
            "s = StubOpenAI();"
            "s.enqueue(*eval(script.get(n, '[]')));"
            "port = s._server.server_address[1];"
            f"(pathlib.Path({str(self.log_dir)!r}) / f'bound-{{n}}').write_text(str(port));"
            f"report_port({port_fd}, port);"
            "s._server.serve_forever()"
        )
        return [sys.executable, "-c", code]


class ScriptedChild(LlamaServer):
    """A child that runs ``code`` (Python) with the port fd as ``fd``."""

    code = ""

    def command(self, port_fd: int) -> list[str]:
        return [sys.executable, "-c", f"import os, time; fd = {port_fd}\n{self.code}"]


def test_startup_timeout_kills_the_child_and_shows_the_log(tmp_path):
    server = SleepyServer(tmp_path / "x.gguf", "sleepy", tmp_path / "logs", startup_timeout_s=1.5)
    with pytest.raises(ModelUnavailableError) as info:
        server.start()
    assert "did not answer within" in str(info.value)
    assert "loading forever" in str(info.value)  # the log tail travels with the error
    assert not server.running


def test_broken_model_file_fails_with_the_server_log(tmp_path):
    pytest.importorskip("llama_cpp")
    gguf = tmp_path / "broken.gguf"
    gguf.write_bytes(b"this is not a gguf file" * 100)
    server = LlamaServer(gguf, "broken", tmp_path / "logs", startup_timeout_s=120)
    with pytest.raises(ModelUnavailableError) as info:
        server.start()
    assert "exited with code" in str(info.value)
    assert server.log_path is not None and server.log_path.exists()
    assert not server.running


def test_start_is_idempotent_and_stop_frees_the_port(tmp_path):
    import urllib.request

    server = StubProcessServer(tmp_path / "x.gguf", "stub", tmp_path / "logs", startup_timeout_s=60)
    messages: list[str] = []
    url = server.start(messages.append)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert server.start() == url  # second start: same process, same port
        with urllib.request.urlopen(url + "/models", timeout=5) as resp:
            assert resp.status == 200
        assert any("loading model" in m for m in messages)
        assert any("ready" in m for m in messages)
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/models", timeout=2)


def test_shared_server_is_one_per_model_file(tmp_path):
    a = llama_server.shared_server(tmp_path / "m.gguf", "m", tmp_path)
    b = llama_server.shared_server(tmp_path / "m.gguf", "m", tmp_path)
    c = llama_server.shared_server(tmp_path / "n.gguf", "n", tmp_path)
    assert a is b and a is not c


def test_command_runs_the_server_module_on_loopback(tmp_path):
    cmd = LlamaServer(tmp_path / "m.gguf", "m", tmp_path, n_threads=2).command(7)
    assert cmd[:3] == [sys.executable, "-m", "extractor.backends.server_main"]
    assert cmd[cmd.index("--parent-pid") + 1] == str(os.getpid())
    assert cmd[cmd.index("--port-fd") + 1] == "7"
    assert "--port" not in cmd  # the child picks its port
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--n_ctx") + 1] == "8192"
    assert cmd[cmd.index("--n_threads") + 1] == "2"


def test_prompt_prefix_cache_is_on_by_default_and_can_be_switched_off(tmp_path, monkeypatch):
    server = LlamaServer(tmp_path / "m.gguf", "m", tmp_path, n_threads=1)
    monkeypatch.delenv("NIANBAO_PROMPT_CACHE_MB", raising=False)
    cmd = server.command(1234)
    assert cmd[cmd.index("--cache") + 1] == "True" and cmd[cmd.index("--cache_type") + 1] == "ram"
    assert int(cmd[cmd.index("--cache_size") + 1]) == 3 << 30
    assert cmd[cmd.index("--logits_all") + 1] == "False"
    monkeypatch.setenv("NIANBAO_PROMPT_CACHE_MB", "512")
    cmd = server.command(1234)
    assert int(cmd[cmd.index("--cache_size") + 1]) == 512 << 20
    monkeypatch.setenv("NIANBAO_PROMPT_CACHE_MB", "0")
    assert "--cache" not in server.command(1234)


def test_a_server_that_dies_mid_request_is_not_retried_and_is_restarted_next_time(tmp_path):
    from pydantic import BaseModel, SecretStr

    from extractor.backends.client import Endpoint, OpenAICompatLLM
    from extractor.errors import LLMError

    class Answer(BaseModel):
        total: int

    server = StubProcessServer(tmp_path / "x.gguf", "stub", tmp_path / "logs", startup_timeout_s=60)
    server.script = {1: "[Reply.die()]", 2: "[Reply.json({'total': 5})]"}
    llm = OpenAICompatLLM(
        model_id="local:stub",
        connect=lambda: Endpoint(base_url=server.start(), api_key=SecretStr("sk-local"), model="stub"),
        timeout_s=10,
        max_retries=3,
        max_reasks=0,
        constrain_schema=True,
        backoff_base_s=0.01,
        health=server.death_report,
        on_close=server.stop,
    )
    try:
        with pytest.raises(LLMError) as info:
            llm.ask("s", "u", Answer)
        assert "stopped during the request" in str(info.value)
        assert "exited with code 3" in str(info.value)
        assert info.value.attempts == 1  # no retries against a dead process
        result, usage = llm.ask("s", "u", Answer)  # restarts the server first
        assert result.total == 5 and usage.calls == 1
        assert (tmp_path / "logs" / "starts").read_text() == "2"
    finally:
        llm.close()
    assert not server.running


def test_the_port_is_the_one_the_child_bound_and_the_parent_binds_none(tmp_path, monkeypatch):
    """No probe-release-bind race: the parent never binds a port, it uses the one the child reports."""

    def no_bind(self: socket.socket, address: object) -> None:
        raise AssertionError(f"the parent bound {address!r}")

    monkeypatch.setattr(socket.socket, "bind", no_bind)
    server = StubProcessServer(tmp_path / "x.gguf", "stub", tmp_path / "logs", startup_timeout_s=60)
    server.script = {}
    try:
        server.start()
        assert server.port == int((tmp_path / "logs" / "bound-1").read_text())
    finally:
        server.stop()


def test_servers_started_together_each_get_their_own_port(tmp_path):
    servers = [
        StubProcessServer(tmp_path / f"{i}.gguf", f"s{i}", tmp_path / f"logs{i}", startup_timeout_s=60)
        for i in range(4)
    ]
    errors: list[BaseException] = []

    def start(server: LlamaServer) -> None:
        try:
            server.start()
        except Exception as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        assert not errors, errors
        ports = [s.port for s in servers]
        assert len(set(ports)) == len(servers)
        for i, server in enumerate(servers):
            assert server.port == int((tmp_path / f"logs{i}" / "bound-1").read_text())
    finally:
        for s in servers:
            s.stop()


def test_a_child_that_dies_before_reporting_a_port_fails_at_once_with_its_log(tmp_path):
    server = ScriptedChild(tmp_path / "x.gguf", "dies", tmp_path / "logs", startup_timeout_s=60)
    server.code = "print('cannot load the model', flush=True); raise SystemExit(7)"
    with pytest.raises(ModelUnavailableError) as info:
        server.start()
    assert "exited with code 7" in str(info.value) and "cannot load the model" in str(info.value)
    assert not server.running


def test_a_child_that_reports_garbage_is_stopped(tmp_path):
    server = ScriptedChild(tmp_path / "x.gguf", "garbage", tmp_path / "logs", startup_timeout_s=60)
    server.code = "os.write(fd, b'not a port\\n'); os.close(fd); time.sleep(60)"
    with pytest.raises(ModelUnavailableError) as info:
        server.start()
    assert "did not report its port" in str(info.value)
    assert not server.running
