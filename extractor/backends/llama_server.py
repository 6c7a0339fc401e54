"""The embedded model served on loopback by llama-cpp-python's OpenAI-compatible server.

Running the model behind HTTP keeps one client path for every backend: the embedded model is
just another base URL. The server starts on first use (once per process and model, under a
lock), listens on 127.0.0.1 on a free port, and stops in ``close()``, at interpreter exit, and
when this process dies (a watchdog in the child notices that its parent is gone).
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from extractor.errors import ModelUnavailableError

if TYPE_CHECKING:
    from extractor.backends.client import ModelRef, OpenAICompatLLM
    from extractor.config import RunConfig

Progress = Callable[[str], None]

N_CTX = 8192
STARTUP_TIMEOUT_S = float(os.environ.get("NIANBAO_SERVER_STARTUP_S", "300"))
_LOG_TAIL_LINES = 25


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Threads for llama.cpp: ``NIANBAO_THREADS``, else one core fewer than we have (at most 8).

    llama.cpp's worker threads spin at a barrier after every layer. When they outnumber the free
    cores (the client, a test runner or a second server also wants CPU), a descheduled thread
    stalls all the others: on a 2-core machine we measured 2 threads going from 1.6 s to 105 s
    for the same 40 tokens once another process competed, while 1 thread stayed near 2.6 s.
    Leaving one core free trades a little best-case speed for not collapsing under load.
    """
    raw = os.environ.get("NIANBAO_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(_cpu_count() - 1, 8))


def prompt_cache_bytes() -> int:
    """Bytes of llama.cpp states kept for prompt prefixes: ``NIANBAO_PROMPT_CACHE_MB`` (0: off), else 3 GiB.

    Every section call starts with the same system prompt and JSON schema (thousands of tokens for the
    2019 table 二 or the baseline's whole report), and on a CPU reading the prompt costs more than writing
    the answer (~30 prompt tokens/s on 2 cores). The server keeps the state after each call and restarts
    the next call from the longest matching prefix, so those tokens are read once per section, not once
    per report. A state holds the prefix's KV cache plus a logits buffer, about 400 MB for the 1.5B
    model, so the default keeps the last seven or so: one per kind of call of a report.
    """
    raw = os.environ.get("NIANBAO_PROMPT_CACHE_MB", "").strip()
    if raw.isdigit():
        return int(raw) << 20
    return 3 << 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The child runs llama_cpp.server under a watchdog that exits when this process is gone (even
# after SIGKILL, when atexit never runs). PR_SET_PDEATHSIG would be simpler, but it fires when the
# *thread* that started the child ends, and the first ask often comes from a pool worker.
_WATCHDOG = """
import os, runpy, sys, threading, time
parent = int(sys.argv[1])
sys.argv = ["llama_cpp.server"] + sys.argv[2:]
def watch():
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
# llama-cpp-python's RAM prompt cache counts only the llama.cpp part of a saved state toward its
# capacity, not the logits copy beside it (hundreds of MB each): left alone it grew past 20 GB.
import llama_cpp.llama_cache as _cache
_cache.LlamaRAMCache.cache_size = property(lambda self: sum(
    s.llama_state_size + s.scores.nbytes + s.input_ids.nbytes for s in self.cache_state.values()))
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class LlamaServer:
    """One ``python -m llama_cpp.server`` child process serving one GGUF."""

    def __init__(
        self,
        gguf: Path,
        alias: str,
        log_dir: Path,
        *,
        n_ctx: int = N_CTX,
        n_threads: int | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.gguf = gguf
        self.alias = alias
        self.log_dir = log_dir
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.startup_timeout_s = startup_timeout_s
        self.port: int | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, port: int) -> list[str]:
        return [
            sys.executable, "-c", _WATCHDOG, str(os.getpid()),
            "--model", str(self.gguf),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--n_threads_batch", str(self.n_threads),
            "--verbose", "False",
            # The server's default keeps logits for every position of the context (n_ctx x vocabulary
            # floats: 5 GB at 8192 tokens); nothing here reads logits.
            "--logits_all", "False",
        ] + self._cache_args()

    def _cache_args(self) -> list[str]:
        size = prompt_cache_bytes()
        if size <= 0:
            return []
        return ["--cache", "True", "--cache_type", "ram", "--cache_size", str(size)]

    def start(self, progress: Progress | None = None) -> str:
        """Start (if needed) and wait until ``/v1/models`` answers; returns the base URL."""
        say = progress or (lambda _msg: None)
        with self._lock:
            if self.running:
                return self.base_url
            self.log_dir.mkdir(parents=True, exist_ok=True)
            size_gb = self.gguf.stat().st_size / 1e9 if self.gguf.is_file() else 0.0
            say(f"正在加载本地模型 loading model {self.alias} ({size_gb:.1f} GB, {self.n_threads} threads)…")
            began = time.monotonic()
            port = free_port()
            self.log_path = self.log_dir / f"llama-server-{self.alias}-{os.getpid()}.log"
            log = self.log_path.open("ab")
            try:
                self._proc = subprocess.Popen(
                    self.command(port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:
                raise ModelUnavailableError(
                    f"cannot start the local model server: {exc}",
                    hint="is llama-cpp-python[server] installed?",
                    hint_zh="无法启动本地模型服务，请检查 llama-cpp-python[server] 是否已安装",
                ) from None
            finally:
                log.close()
            self.port = port
            _register(self)
            try:
                self._wait_ready()
            except BaseException:
                self._stop_locked()
                raise
            say(f"本地模型已就绪 model ready in {time.monotonic() - began:.1f}s ({self.base_url})")
            return self.base_url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"http://127.0.0.1:{self.port}/v1/models"
        assert self._proc is not None and self.log_path is not None
        while True:
            code = self._proc.poll()
            if code is not None:
                raise ModelUnavailableError(
                    f"the local model server exited with code {code} while loading {self.gguf.name}:\n"
                    f"{_tail(self.log_path)}",
                    hint=f"full log: {self.log_path}",
                    hint_zh="本地模型服务启动失败，详见日志",
                )
            try:
                with urllib.request.urlopen(url, timeout=2.0) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ModelUnavailableError(
                    f"the local model server did not answer within {self.startup_timeout_s:.0f}s:\n"
                    f"{_tail(self.log_path)}",
                    hint=f"full log: {self.log_path}; raise NIANBAO_SERVER_STARTUP_S on slow machines",
                    hint_zh="本地模型服务启动超时，详见日志",
                )
            time.sleep(0.25)

    def death_report(self, grace_s: float = 0.0) -> str | None:
        """None while the server runs (after waiting up to ``grace_s`` for it to exit); else a
        line on how it ended, with the log's tail."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            if grace_s > 0:
                try:
                    proc.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    pass
            if proc.poll() is None:
                return None
        if proc is None:
            return "stopped"
        tail = _tail(self.log_path, 8) if self.log_path is not None else ""
        return f"exited with code {proc.returncode} (log {self.log_path}):\n{tail}"

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        self.port = None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# One server per model file per process, shared by every client object and thread.
_servers: dict[Path, LlamaServer] = {}
_servers_lock = threading.Lock()
_atexit_registered = False


def _register(server: LlamaServer) -> None:
    global _atexit_registered
    with _servers_lock:
        if not _atexit_registered:
            atexit.register(stop_all)
            _atexit_registered = True


def shared_server(gguf: Path, alias: str, log_dir: Path) -> LlamaServer:
    key = gguf.resolve()
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            server = LlamaServer(key, alias, log_dir)
            _servers[key] = server
        return server


def stop_all() -> None:
    with _servers_lock:
        servers = list(_servers.values())
    for server in servers:
        server.stop()


_SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")


def check_server_installed() -> None:
    """Fail with the install command, rather than a dead child process, when the server is missing."""
    import importlib.util

    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelUnavailableError(
            f"the embedded model needs llama-cpp-python's server (missing: {', '.join(missing)})",
            hint="pip install 'llama-cpp-python[server]==0.3.36', or use an 'openai:' endpoint",
            hint_zh="内置模型需要 llama-cpp-python[server]，请先安装，或改用 openai: 远程模型",
        )


def local_llm(ref: "ModelRef", config: "RunConfig", progress: Progress | None = None) -> "OpenAICompatLLM":
    """The embedded model as an ``OpenAICompatLLM``; nothing is fetched or started until the first ask."""
    from extractor.backends.client import Endpoint, OpenAICompatLLM
    from extractor.backends.embedded_model import MODEL_PATH_ENV, ensure_model
    from extractor.backends.model_probe import ensure_runnable

    state: dict[str, LlamaServer] = {}

    def connect() -> Endpoint:
        check_server_installed()
        gguf = ensure_model(ref.name, config.cache_dir, progress)
        # A build that cannot run on this CPU (AMX segfault, SIGILL) fails here in one line, once per
        # build, model and machine, instead of killing the server in the middle of a report.
        ensure_runnable(gguf, config.cache_dir, n_threads=default_threads(), progress=progress)
        server = shared_server(gguf, ref.name, Path(config.cache_dir) / "logs")
        state["server"] = server
        base_url = server.start(progress)
        return Endpoint(base_url=base_url, api_key=SecretStr("sk-local"), model=ref.name)

    def on_close() -> None:
        server = state.pop("server", None)
        if server is not None:
            server.stop()

    llm = OpenAICompatLLM(
        model_id=ref.model_id,
        connect=connect,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
        max_reasks=config.max_reasks,
        constrain_schema=True,
        progress=progress,
        on_close=on_close,
        health=lambda grace: state["server"].death_report(grace) if "server" in state else "not started",
    )
    override = os.environ.get(MODEL_PATH_ENV)
    if override:
        # A different file behind the same name must not share cache entries with the real model.
        try:
            st = Path(override).stat()
            llm.cache_identity = f"{ref.model_id}@{Path(override).resolve()}:{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            llm.cache_identity = f"{ref.model_id}@{override}"
    return llm
