"""The embedded model served on loopback by llama-cpp-python's OpenAI-compatible server.

Running the model behind HTTP keeps one client path for every backend: the embedded model is
just another base URL. The server starts on first use (once per process and model, under a
lock) as ``python -m extractor.backends.server_main``, which binds 127.0.0.1 on a port the kernel
picks and reports it back over a pipe; it stops in ``close()``, at interpreter exit, and when this
process dies (a watchdog in the child notices that its parent is gone).

This module knows nothing of the client: ``client.make_llm`` wraps a ``LocalModel`` in the same
``OpenAICompatLLM`` as any remote endpoint.
"""

from __future__ import annotations

import atexit
import os
import selectors
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from extractor.backends.embedded_model import MODEL_PATH_ENV, ensure_model
from extractor.backends.model_probe import ensure_runnable
from extractor.errors import ModelUnavailableError

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


SERVER_MODULE = "extractor.backends.server_main"


class NoPortReported(Exception):
    """The child closed its end of the port pipe without writing a port (it died, or is not ours)."""


def read_reported_port(fd: int, proc: subprocess.Popen[bytes], deadline: float) -> int | None:
    """The port the child wrote to the pipe ``fd`` (``server_main.report_port``); closes ``fd``.

    None when ``deadline`` (a ``time.monotonic()`` value) passes first; raises ``NoPortReported`` when the
    child closes the pipe, exits or writes something other than a port.
    """
    buf = b""
    selector = selectors.DefaultSelector()  # not select.select: a busy process may hold fds past 1024
    selector.register(fd, selectors.EVENT_READ)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not selector.select(min(remaining, 0.25)):
                if proc.poll() is not None:
                    raise NoPortReported()
                continue
            chunk = os.read(fd, 64)
            if not chunk:
                raise NoPortReported()
            buf += chunk
            if b"\n" in buf:
                line = buf.split(b"\n", 1)[0].strip()
                if not line.isdigit() or not 0 < int(line) < 65536:
                    raise NoPortReported()
                return int(line)
    finally:
        selector.close()
        os.close(fd)


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class LlamaServer:
    """One child process (``python -m extractor.backends.server_main``) serving one GGUF."""

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

    def command(self, port_fd: int) -> list[str]:
        """The child's command line; it writes the port it bound to the inherited fd ``port_fd``."""
        return [
            sys.executable, "-m", SERVER_MODULE,
            "--parent-pid", str(os.getpid()),
            "--port-fd", str(port_fd),
            "--model", str(self.gguf),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
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
            self.log_path = self.log_dir / f"llama-server-{self.alias}-{os.getpid()}.log"
            read_fd, write_fd = os.pipe()
            log = self.log_path.open("ab")
            try:
                self._proc = subprocess.Popen(
                    self.command(write_fd),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(write_fd,),
                )
            except OSError as exc:
                os.close(read_fd)
                raise ModelUnavailableError(
                    f"cannot start the local model server: {exc}",
                    hint="is llama-cpp-python[server] installed?",
                    hint_zh="无法启动本地模型服务，请检查 llama-cpp-python[server] 是否已安装",
                ) from None
            finally:
                # Only the child holds the write end now, so the pipe ends (EOF) when the child does.
                os.close(write_fd)
                log.close()
            _register(self)
            try:
                self._wait_ready(read_fd, time.monotonic() + self.startup_timeout_s)
            except BaseException:
                self._stop_locked()
                raise
            say(f"本地模型已就绪 model ready in {time.monotonic() - began:.1f}s ({self.base_url})")
            return self.base_url

    def _wait_ready(self, port_fd: int, deadline: float) -> None:
        """Wait for the child's port on ``port_fd`` (closed here), then for ``/v1/models`` to answer."""
        assert self._proc is not None and self.log_path is not None
        try:
            port = read_reported_port(port_fd, self._proc, deadline)
        except NoPortReported:
            port = None
            try:
                self._proc.wait(timeout=2)  # a child that closed the pipe is usually exiting
            except subprocess.TimeoutExpired:
                pass
            if self._proc.poll() is None:
                raise ModelUnavailableError(
                    f"the local model server did not report its port:\n{_tail(self.log_path)}",
                    hint=f"full log: {self.log_path}",
                    hint_zh="本地模型服务启动失败，详见日志",
                ) from None
        if port is None:
            self._check_alive()
            raise self._timeout_error()
        self.port = port
        url = f"http://127.0.0.1:{port}/v1/models"
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2.0) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise self._timeout_error()
            time.sleep(0.1)

    def _check_alive(self) -> None:
        assert self._proc is not None and self.log_path is not None
        code = self._proc.poll()
        if code is not None:
            raise ModelUnavailableError(
                f"the local model server exited with code {code} while loading {self.gguf.name}:\n"
                f"{_tail(self.log_path)}",
                hint=f"full log: {self.log_path}",
                hint_zh="本地模型服务启动失败，详见日志",
            )

    def _timeout_error(self) -> ModelUnavailableError:
        assert self.log_path is not None
        return ModelUnavailableError(
            f"the local model server did not answer within {self.startup_timeout_s:.0f}s:\n"
            f"{_tail(self.log_path)}",
            hint=f"full log: {self.log_path}; raise NIANBAO_SERVER_STARTUP_S on slow machines",
            hint_zh="本地模型服务启动超时，详见日志",
        )

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


class LocalModel:
    """The embedded model ``local:<name>`` as an endpoint: nothing is fetched or started until ``start``.

    ``start`` assembles the GGUF (once), checks that this llama.cpp build can run it on this CPU
    (once per build, model and machine) and starts the process's shared server for it.
    """

    def __init__(self, name: str, cache_dir: Path, progress: Progress | None = None) -> None:
        self.name = name
        self.cache_dir = Path(cache_dir)
        self._progress = progress
        self._server: LlamaServer | None = None

    def start(self) -> str:
        """The base URL of the running server, starting it first if needed."""
        check_server_installed()
        gguf = ensure_model(self.name, self.cache_dir, self._progress)
        # A build that cannot run on this CPU (AMX segfault, SIGILL) fails here in one line, once per
        # build, model and machine, instead of killing the server in the middle of a report.
        ensure_runnable(gguf, self.cache_dir, n_threads=default_threads(), progress=self._progress)
        self._server = shared_server(gguf, self.name, self.cache_dir / "logs")
        return self._server.start(self._progress)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def death_report(self, grace_s: float = 0.0) -> str | None:
        """None while the server runs; else how it ended (``LlamaServer.death_report``)."""
        if self._server is None:
            return "not started"
        return self._server.death_report(grace_s)

    def cache_identity(self, model_id: str) -> str | None:
        """What the answer cache keys on when ``NIANBAO_MODEL_PATH`` swaps the file behind the name
        (a different file must not share cache entries with the real model); None otherwise."""
        override = os.environ.get(MODEL_PATH_ENV)
        if not override:
            return None
        try:
            st = Path(override).stat()
        except OSError:
            return f"{model_id}@{override}"
        return f"{model_id}@{Path(override).resolve()}:{st.st_size}:{st.st_mtime_ns}"
