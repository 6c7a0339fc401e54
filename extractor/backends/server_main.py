"""The embedded model server's child process: ``python -m extractor.backends.server_main``.

``LlamaServer`` (llama_server.py) starts this module; it is llama-cpp-python's own server
(``llama_cpp.server``: its settings, its FastAPI app, uvicorn) with three things added:

- a watchdog that exits when the process that started it is gone, even after a SIGKILL that
  skipped its ``atexit`` (``--parent-pid``);
- a fix of llama-cpp-python's RAM prompt cache accounting (``install_cache_accounting``);
- no port race: once the model is loaded the child binds port 0 itself and writes the port the
  kernel gave it to a pipe the parent reads (``--port-fd``), where the parent used to probe a free
  port, release it and hope the child could still bind it.

Every other argument is llama_cpp.server's own (``--model``, ``--host``, ``--n_ctx`` ...); its
``--port`` (and the ``PORT`` environment variable it honours) is not used.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from llama_cpp.llama import LlamaState
    from llama_cpp.llama_cache import LlamaRAMCache

WATCH_INTERVAL_S = 1.0

SettingsT = TypeVar("SettingsT", bound=BaseModel)


# -- the watchdog ----------------------------------------------------------------------------------


def watch_parent(
    parent_pid: int,
    *,
    interval_s: float = WATCH_INTERVAL_S,
    getppid: Callable[[], int] = os.getppid,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once this process's parent is no longer ``parent_pid``.

    An orphan is re-parented (to init or a subreaper), so a changed parent id means the parent
    died, however it died. PR_SET_PDEATHSIG would be simpler, but it fires when the *thread* that
    started the child ends, and the first question often comes from a pool worker.
    """
    while getppid() == parent_pid:
        sleep(interval_s)


def _exit_now() -> None:
    # os._exit: no atexit, no thread joins; uvicorn's shutdown could wait on a request in flight.
    os._exit(0)


def start_watchdog(
    parent_pid: int,
    *,
    interval_s: float = WATCH_INTERVAL_S,
    on_orphaned: Callable[[], None] = _exit_now,
) -> threading.Thread:
    """Watch ``parent_pid`` from a daemon thread; call ``on_orphaned`` (exit) when it is gone."""

    def run() -> None:
        watch_parent(parent_pid, interval_s=interval_s)
        on_orphaned()

    thread = threading.Thread(target=run, name="parent-watchdog", daemon=True)
    thread.start()
    return thread


# -- the prompt cache's size -----------------------------------------------------------------------


def saved_state_bytes(state: LlamaState) -> int:
    """What one saved prompt state holds in RAM: llama.cpp's state plus the logits and token ids
    that llama-cpp-python keeps beside it."""
    return int(state.llama_state_size) + int(state.scores.nbytes) + int(state.input_ids.nbytes)


def ram_cache_size(cache: LlamaRAMCache) -> int:
    """The bytes a ``LlamaRAMCache`` holds, counted as ``saved_state_bytes`` does."""
    states: Iterable[LlamaState] = cache.cache_state.values()
    return sum(saved_state_bytes(state) for state in states)


def install_cache_accounting() -> None:
    """Make ``LlamaRAMCache`` count the whole of each saved state toward its capacity.

    llama-cpp-python 0.3.36 counts only ``llama_state_size``, not the logits copy beside it
    (vocabulary x prompt floats, hundreds of MB per state), so the cache never evicted and the
    server grew past 20 GB. The cache evicts in ``__setitem__`` while ``cache_size`` exceeds its
    capacity, so replacing the property is the whole fix.
    """
    from llama_cpp.llama_cache import LlamaRAMCache

    LlamaRAMCache.cache_size = property(ram_cache_size)  # type: ignore[assignment,method-assign]  # replaces the upstream property on purpose


# -- the port handshake ----------------------------------------------------------------------------


def listen_on_free_port(host: str) -> socket.socket:
    """A listening socket on ``host`` at a port the kernel picks (nobody else can hold it)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def report_port(port_fd: int, port: int) -> None:
    """Tell the parent the port: decimal digits and a newline on ``port_fd``, which is then closed
    (``llama_server.read_reported_port`` reads it)."""
    try:
        os.write(port_fd, f"{port}\n".encode("ascii"))
    finally:
        os.close(port_fd)


# -- the entry point -------------------------------------------------------------------------------


def _settings(cls: type[SettingsT], args: argparse.Namespace) -> SettingsT:
    """``cls`` from the arguments given for its fields (llama_cpp.server.cli.parse_model_from_args,
    whose annotation says it returns the class rather than an instance)."""
    return cls(**{k: v for k, v in vars(args).items() if v is not None and k in cls.model_fields})


def _split_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    ours = argparse.ArgumentParser(prog="python -m extractor.backends.server_main", add_help=False)
    ours.add_argument("--parent-pid", type=int, required=True, help="exit when this process is gone")
    ours.add_argument("--port-fd", type=int, required=True, help="write the bound port to this inherited fd")
    return ours.parse_known_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    known, rest = _split_args(sys.argv[1:] if argv is None else argv)
    start_watchdog(known.parent_pid)
    install_cache_accounting()

    # llama_cpp.server's own parsing, as its __main__ does it (without its config-file branch).
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.cli import add_args_from_model
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    parser = argparse.ArgumentParser(prog="python -m extractor.backends.server_main")
    add_args_from_model(parser, Settings)
    args = parser.parse_args(rest)
    server_settings = _settings(ServerSettings, args)
    model_settings = [_settings(ModelSettings, args)]
    app = create_app(server_settings=server_settings, model_settings=model_settings)  # loads the model

    # Bound only now: the parent's readiness poll then finds a server that answers, not a queue
    # of connections that nobody accepts while the weights load.
    sock = listen_on_free_port(server_settings.host)
    report_port(known.port_fd, int(sock.getsockname()[1]))
    uvicorn.Server(uvicorn.Config(app)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
