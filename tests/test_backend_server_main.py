"""The embedded server's child entry point (``extractor.backends.server_main``) without a model:
its parent watchdog (in a real orphaned process), the prompt cache's size accounting (on
llama-cpp-python's real ``LlamaRAMCache``) and the port handshake."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from extractor.backends import server_main
from extractor.backends.llama_server import NoPortReported, read_reported_port

if TYPE_CHECKING:
    from llama_cpp.llama import LlamaState

ROOT = Path(__file__).resolve().parents[1]


def test_watch_parent_returns_once_the_parent_id_changes() -> None:
    parents = iter([100, 100, 100, 1])
    sleeps: list[float] = []
    server_main.watch_parent(100, interval_s=0.5, getppid=lambda: next(parents), sleep=sleeps.append)
    assert sleeps == [0.5, 0.5, 0.5]


def test_the_watchdog_thread_calls_back_when_orphaned() -> None:
    orphaned: list[bool] = []
    # A parent id this process does not have: the watchdog fires on its first look.
    thread = server_main.start_watchdog(os.getppid() + 1, interval_s=0.01, on_orphaned=lambda: orphaned.append(True))
    thread.join(timeout=5)
    assert orphaned == [True] and thread.daemon


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:  # a zombie waiting for its new parent to reap it is gone
            return fh.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_child_exits_when_its_parent_is_killed() -> None:
    """SIGKILL skips the parent's atexit; the watchdog in the child still ends it."""
    child_code = (
        "import os, sys, time\n"
        "from extractor.backends.server_main import start_watchdog\n"
        "start_watchdog(os.getppid(), interval_s=0.05)\n"
        "print(os.getpid(), flush=True)\n"
        "time.sleep(60)\n"
    )
    parent_code = (
        "import subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, '-c', {child_code!r}], stdout=subprocess.PIPE, text=True)\n"
        "print(child.stdout.readline().strip(), flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        time.sleep(0.3)
        assert not _gone(child), "the watchdog fired while the parent was alive"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not _gone(child):
            assert time.monotonic() < deadline, "the child outlived its killed parent"
            time.sleep(0.05)
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait(timeout=10)


def _state(llama_bytes: int, n_tokens: int, vocab: int) -> LlamaState:
    np = pytest.importorskip("numpy")
    from llama_cpp.llama import LlamaState

    return LlamaState(
        input_ids=np.zeros(n_tokens, dtype=np.intc),
        scores=np.zeros((n_tokens, vocab), dtype=np.single),
        n_tokens=n_tokens,
        llama_state=b"\0" * 16,
        llama_state_size=llama_bytes,
        seed=0,
    )


def test_saved_state_bytes_counts_the_logits_and_token_ids() -> None:
    pytest.importorskip("llama_cpp")
    state = _state(llama_bytes=1000, n_tokens=10, vocab=50)
    assert server_main.saved_state_bytes(state) == 1000 + 10 * 50 * 4 + 10 * 4


def test_the_ram_cache_evicts_by_what_its_states_really_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    from llama_cpp.llama_cache import LlamaRAMCache

    # Undo the patch after the test: it replaces a class attribute of the real library.
    monkeypatch.setattr(LlamaRAMCache, "cache_size", LlamaRAMCache.cache_size)
    # Each state: 1 KB of llama.cpp state beside 40 KB of logits, as a small llama.cpp state beside
    # the vocabulary-wide logits is in the server.
    states = [_state(llama_bytes=1024, n_tokens=10, vocab=1024) for _ in range(5)]
    one = server_main.saved_state_bytes(states[0])

    unpatched = LlamaRAMCache(capacity_bytes=3 * one)
    for i, state in enumerate(states):
        unpatched[(i,)] = state
    assert len(unpatched.cache_state) == 5  # upstream counts 1 KB a state: nothing is ever evicted

    server_main.install_cache_accounting()
    server_main.install_cache_accounting()  # idempotent
    patched = LlamaRAMCache(capacity_bytes=3 * one)
    for i, state in enumerate(states):
        patched[(i,)] = state
        assert patched.cache_size <= 3 * one
    assert list(patched.cache_state) == [(2,), (3,), (4,)]  # the oldest went first
    assert patched.cache_size == 3 * one


def test_the_port_handshake_between_child_and_parent() -> None:
    sock = server_main.listen_on_free_port("127.0.0.1")
    read_fd, write_fd = os.pipe()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        port = int(sock.getsockname()[1])
        assert port > 0
        server_main.report_port(write_fd, port)
        assert read_reported_port(read_fd, sleeper, time.monotonic() + 5) == port
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it listens already: a connection waits in the backlog, it is not refused
    finally:
        sock.close()
        sleeper.kill()
        sleeper.wait()


def test_reading_the_port_times_out_or_fails_on_a_closed_pipe() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        read_fd, write_fd = os.pipe()
        began = time.monotonic()
        assert read_reported_port(read_fd, sleeper, time.monotonic() + 0.5) is None
        assert 0.4 <= time.monotonic() - began < 5
        os.close(write_fd)
        read_fd, write_fd = os.pipe()
        os.close(write_fd)
        with pytest.raises(NoPortReported):
            read_reported_port(read_fd, sleeper, time.monotonic() + 5)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_entry_point_needs_its_parent_and_port_fd() -> None:
    with pytest.raises(SystemExit):
        server_main._split_args(["--model", "m.gguf"])
    known, rest = server_main._split_args(["--parent-pid", "12", "--port-fd", "5", "--model", "m.gguf", "--n_ctx", "8"])
    assert (known.parent_pid, known.port_fd) == (12, 5)
    assert rest == ["--model", "m.gguf", "--n_ctx", "8"]
