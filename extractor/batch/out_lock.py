"""One batch at a time per --out folder: an advisory lock on a file inside it, held for the whole run.

Two batches on one folder would each read every file and interleave their lines in results.jsonl.
The operating system drops the lock when the process ends, however it ends, so a crashed batch
never leaves the folder locked; the file itself stays (empty but for the last holder's pid).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOCK_NAME = ".nianbao-batch.lock"


class OutDirBusy(Exception):
    """Another process holds the folder's lock."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is locked by another batch ({holder})")
        self.path = path
        self.holder = holder


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError where another process holds it
        return False
    return True


class OutDirLock:
    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "OutDirLock":
        """Take the lock or raise OutDirBusy naming the holder's pid; never waits."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        if not _try_lock(fd):
            holder = os.read(fd, 64).decode("ascii", "replace").strip()
            os.close(fd)
            raise OutDirBusy(self.path, f"pid {holder}" if holder else "pid unknown")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    def __enter__(self) -> "OutDirLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
