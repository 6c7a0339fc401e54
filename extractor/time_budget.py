"""A time budget per file: the work runs in a child process, and a child that overruns is killed.

A thread cannot be stopped from outside, and the slow parts of reading a file (a layout or a
reading that grows faster than its input, a C library on a hostile file) do not stop to ask. So the
batch and the UI hand each file to a worker process; when the budget is spent, or the reviewer
cancels, the worker is killed (with any model server it started) and the caller gets one clear
error for that file. Workers are reused between files, and leave by themselves when idle.

The budget: ``--file-timeout`` (batch), else ``NIANBAO_FILE_TIMEOUT`` (seconds), else a default per
engine that is several times what a large report takes on two cores. 0 turns the budget off: the
work then runs in the calling thread, as it did before (useful under a debugger).
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from extractor.engine_catalog import MODEL_ENGINES
from extractor.errors import ConfigError, InputError

FILE_TIMEOUT_ENV = "NIANBAO_FILE_TIMEOUT"
# The template engine reads a report in well under a second and a 100-page PDF in under a minute;
# the LLM engines take about five minutes a report with the embedded model on two cores.
DEFAULT_BUDGET_S = 300.0
DEFAULT_LLM_BUDGET_S = 1800.0
_IDLE_EXIT_S = 600.0  # an idle worker leaves after this long; the next file starts a fresh one
_POLL_S = 0.1

T = TypeVar("T")
Check = Callable[[], None]
Progress = Callable[[str, float], None]


class FileTimeoutError(InputError):
    """The file took longer than its budget; the work was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"reading the file took longer than the per-file time budget of {seconds:g} s and was stopped "
            f"(--file-timeout or {FILE_TIMEOUT_ENV} raises it)",
            hint_zh=f"处理超时（超过每个文件 {seconds:g} 秒的时限），已停止；如确需更长时间，可调高 {FILE_TIMEOUT_ENV}",
        )
        self.seconds = seconds


class WorkerDiedError(InputError):
    """The worker process ended in the middle of a file (killed for memory, a crash in a C library)."""

    def __init__(self, exitcode: int | None) -> None:
        how = f"was killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exited ({exitcode})"
        oom = " (out of memory?)" if exitcode == -signal.SIGKILL else ""
        super().__init__(f"the process reading the file {how}{oom}",
                         hint_zh="读取该文件的进程意外退出（可能内存不足或文件触发了底层库错误）")
        self.exitcode = exitcode


def file_budget_s(engine: str, override: float | None = None) -> float | None:
    """Seconds one file may take (None: no budget). ``override`` is the batch's --file-timeout."""
    if override is None:
        raw = os.environ.get(FILE_TIMEOUT_ENV, "").strip()
        if raw:
            try:
                override = float(raw)
            except ValueError:
                override = -1.0
            if override < 0:
                raise ConfigError(f"{FILE_TIMEOUT_ENV}={raw!r} is not a number of seconds",
                                  hint_zh=f"环境变量 {FILE_TIMEOUT_ENV} 应为秒数（0 表示不限时）")
    if override is None:
        return DEFAULT_LLM_BUDGET_S if engine in MODEL_ENGINES else DEFAULT_BUDGET_S
    return override if override > 0 else None


# ---- the child
def _environment() -> dict[str, str]:
    # Limits and settings live in NIANBAO_* variables; a worker started earlier must see today's values.
    return {k: v for k, v in os.environ.items() if k.startswith("NIANBAO_")}


def _adopt(env: dict[str, str], cwd: str) -> None:
    for key in [k for k in os.environ if k.startswith("NIANBAO_") and k not in env]:
        del os.environ[key]
    os.environ.update(env)
    try:
        os.chdir(cwd)
    except OSError:
        pass


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (project errors do, see errors.py), else a plain stand-in."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception type can refuse to pickle
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)  # the batch or UI is gone (killed, or a second Ctrl-C): nobody waits for this file

    threading.Thread(target=watch, daemon=True, name="nianbao-parent-watch").start()


_CHILD_CODE = "import sys; from extractor.time_budget import _child_main; _child_main(int(sys.argv[1]), int(sys.argv[2]))"


def _child_main(fd: int, parent: int) -> None:
    _serve(Connection(fd), parent)


def _serve(conn: Connection, parent: int) -> None:
    """The worker's loop: one job at a time, progress and the result sent back on ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it lets files in flight finish
    _watch_parent(parent)

    def report(stage: str, fraction: float) -> None:
        conn.send(("progress", stage, fraction))

    while True:
        try:
            if not conn.poll(_IDLE_EXIT_S):
                return
            job = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - a job that cannot be unpickled here (fn not importable)
            conn.send(("error", _portable(exc)))
            continue
        if job is None:
            return
        fn, args, with_progress, env, cwd = job
        _adopt(env, cwd)
        try:
            result = fn(*args, progress=report) if with_progress else fn(*args)
            message: tuple[Any, ...] = ("ok", result)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            message = ("error", _portable(exc))
        try:
            conn.send(message)
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
            conn.send(("error", RuntimeError(f"the result could not be sent back: {type(exc).__name__}: {exc}")))


# ---- the parent
def _extra_import_path() -> list[str]:
    """The caller's import path beyond the interpreter's own (a checkout on PYTHONPATH, a test's
    ``tests`` package), in order, so that ``fn`` unpickles by name in the child to the same code.
    The standard library and site-packages stay where the child's interpreter puts them."""
    own = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}

    def interpreters(path: str) -> bool:
        return any(os.path.commonpath([os.path.abspath(path), root]) == root for root in own)

    return [p for p in sys.path if p and os.path.isdir(p) and not interpreters(p)]


class BudgetedWorker:
    """One worker process; ``run`` gives it a call and waits at most the budget for the answer."""

    def __init__(self) -> None:
        self._proc: Any = None
        self._conn: Connection | None = None
        self.last_used = time.monotonic()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _start(self) -> None:
        """A fresh interpreter (no threads or locks inherited) that imports only this module; unlike
        multiprocessing's spawn it does not re-run the caller's main script, which need not be guarded."""
        parent_end, child_end = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(_extra_import_path()))
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD_CODE, str(child_end.fileno()), str(os.getpid())],
                pass_fds=(child_end.fileno(),), stdin=subprocess.DEVNULL, env=env,
            )
        finally:
            child_end.close()
        self._conn = Connection(parent_end.detach())

    def run(self, fn: Callable[..., T], *args: Any, budget_s: float, progress: Progress | None = None,
            check: Check | None = None) -> T:
        """``fn(*args)`` (with ``progress=`` when given) in the worker. Raises FileTimeoutError past
        ``budget_s``, WorkerDiedError if the worker dies, whatever ``progress`` or ``check`` (called
        every 0.1 s while waiting) raise, and whatever ``fn`` raised. On any of the first three the
        worker is killed. ``fn`` must be importable by name (a module-level function)."""
        if not self.alive:
            self.close()
            self._start()
        assert self._conn is not None
        self.last_used = time.monotonic()
        self._conn.send((fn, args, progress is not None, _environment(), os.getcwd()))
        try:
            kind, value = self._wait(time.monotonic() + budget_s, budget_s, progress, check)
        except BaseException:
            self.kill()  # a timeout, a cancellation, a dead worker: whatever it was doing is abandoned
            raise
        self.last_used = time.monotonic()
        if kind == "ok":
            return value
        raise value  # what fn raised; the worker is fine and is kept

    def _wait(self, deadline: float, budget_s: float, progress: Progress | None,
              check: Check | None) -> tuple[str, Any]:
        assert self._conn is not None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FileTimeoutError(budget_s)
            try:
                ready = self._conn.poll(min(remaining, _POLL_S))
                message = self._conn.recv() if ready else None
            except (EOFError, OSError):
                raise WorkerDiedError(self._exitcode(wait_s=1.0)) from None
            if message is None:
                if not self.alive:
                    raise WorkerDiedError(self._exitcode())
                if check is not None:
                    check()
                continue
            kind, *payload = message
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
                continue
            return kind, payload[0]

    def _exitcode(self, wait_s: float = 0.0) -> int | None:
        try:
            return self._proc.wait(timeout=wait_s) if self._proc is not None else None
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5.0)

    def close(self) -> None:
        """Ask the worker to leave; kill it if it does not."""
        proc, conn = self._proc, self._conn
        if conn is not None and proc is not None and proc.poll() is None:
            try:
                conn.send(None)
                proc.wait(timeout=2.0)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self.kill()
        self._proc = None


class WorkerPool:
    """Workers lent one per call; at most ``keep`` wait idle between calls. Thread-safe."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._idle: list[BudgetedWorker] = []
        self._lock = threading.Lock()

    @contextmanager
    def worker(self) -> Iterator[BudgetedWorker]:
        with self._lock:
            worker = self._idle.pop() if self._idle else BudgetedWorker()
        if time.monotonic() - worker.last_used > _IDLE_EXIT_S - 60:
            # it is about to leave on its own: a job sent now could cross its exit
            worker.close()
            worker = BudgetedWorker()
        try:
            yield worker
        finally:
            with self._lock:
                kept = worker.alive and len(self._idle) < self.keep
                if kept:
                    self._idle.append(worker)
            if not kept:
                worker.close()

    def run(self, fn: Callable[..., T], *args: Any, budget_s: float, progress: Progress | None = None,
            check: Check | None = None) -> T:
        with self.worker() as worker:
            return worker.run(fn, *args, budget_s=budget_s, progress=progress, check=check)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


_SHARED: WorkerPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool(keep: int = 2) -> WorkerPool:
    """The process's pool (the batch and the UI both use it; workers are costly to start)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = WorkerPool(keep)
            atexit.register(_SHARED.close)
        _SHARED.keep = max(_SHARED.keep, keep)
        return _SHARED


def run_within_budget(fn: Callable[..., T], *args: Any, budget_s: float | None, progress: Progress | None = None,
                      check: Check | None = None, pool: WorkerPool | None = None) -> T:
    """``fn(*args)`` within ``budget_s`` seconds in a worker process; with no budget, here and now.
    (Workers need POSIX descriptor passing; elsewhere the work runs here, without a budget.)"""
    if budget_s is None or os.name != "posix":
        return fn(*args, progress=progress) if progress is not None else fn(*args)
    return (pool or shared_pool()).run(fn, *args, budget_s=budget_s, progress=progress, check=check)


__all__ = [
    "FILE_TIMEOUT_ENV", "BudgetedWorker", "FileTimeoutError", "WorkerDiedError", "WorkerPool",
    "file_budget_s", "run_within_budget", "shared_pool",
]
