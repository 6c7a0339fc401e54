"""Plain-line progress for long commands whose output is not a terminal.

Rich's live bars draw nothing until the end when stderr is a log file, a pipe or CI: a multi-hour eval
or a 10,000-file batch would look hung. These print one short line per finished unit (eval) or at most
one every few seconds (batch), each with the elapsed time, so `tail -f` shows where the run is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


def _clock_text(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class StepLines:
    """One line per step: ``[3/16 0:12:40] llm · d001 完成 done in 241.3 s``.

    Fed like a progress bar: ``update(description, 0)`` when a step starts, ``update(description, 1)``
    when it ends.
    """

    def __init__(self, total: int, emit: Callable[[str], None], clock: Clock = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self._emit = emit
        self._clock = clock
        self._began = clock()
        self._step_began: float | None = None
        self._current: str | None = None

    def update(self, description: str, advance: int) -> None:
        now = self._clock()
        if advance <= 0:
            if description != self._current:
                self._current = description
                self._step_began = now
            return
        self.done += advance
        took = now - (self._step_began if self._step_began is not None else now)
        self._emit(f"[{self.done}/{self.total} {_clock_text(now - self._began)}] {description} "
                   f"完成 done in {took:.1f} s")
        self._current = None
        self._step_began = None


class ThrottledLines:
    """A count line at most every ``interval`` seconds, and always for the first and the last unit."""

    def __init__(self, emit: Callable[[str], None], interval: float = 10.0, clock: Clock = time.monotonic) -> None:
        self._emit = emit
        self._interval = interval
        self._clock = clock
        self._began = clock()
        self._last: float | None = None

    def tick(self, done: int, total: int, detail: str = "") -> None:
        now = self._clock()
        due = self._last is None or done >= total or now - self._last >= self._interval
        if not due:
            return
        self._last = now
        elapsed = now - self._began
        rate = f"，{done / elapsed:.2f} 份/秒" if done and elapsed > 0 else ""
        tail = f" {detail}" if detail else ""
        self._emit(f"[{done}/{total} {_clock_text(elapsed)}{rate}]{tail}")
