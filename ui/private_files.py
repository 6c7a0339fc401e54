"""Where the review UI keeps temporary files (uploads, exports for download): readable by this user
only, and removed.

Reports and their reviews are not for every account on the machine. Gradio keeps uploads and the
files it serves in GRADIO_TEMP_DIR (by default /tmp/gradio, readable by all, never emptied); the UI
points it at a folder of its own (0700) that is removed when the UI stops. Exports are written into
folders of their own beside it (0700, files 0600; Gradio copies what it serves into its own folder)
and removed an hour later or at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

EXPORT_MAX_AGE_S = 3600.0
_root: Path | None = None  # the running UI's private folder


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def private_temp_root() -> Path:
    """A new 0700 folder for this UI's temporary files, removed at exit; Gradio's uploads go there."""
    global _root
    root = Path(tempfile.mkdtemp(prefix="nianbao-ui-"))  # mkdtemp: 0700, owned by this user
    atexit.register(_remove, root)
    for name in ("gradio", "exports"):
        (root / name).mkdir(mode=0o700)
    # Gradio's own folder: a file a handler returns from inside it would be served only if Gradio
    # had put it there, so exports stay beside it, in root/exports
    os.environ["GRADIO_TEMP_DIR"] = str(root / "gradio")
    _root = root
    return root


class PrivateExports:
    """Folders for export files: each 0700 with files 0600, swept when older than ``max_age_s``."""

    def __init__(self, max_age_s: float = EXPORT_MAX_AGE_S) -> None:
        self.max_age_s = max_age_s
        self._dirs: list[tuple[float, Path]] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def new_dir(self) -> Path:
        self.sweep()
        parent = _root / "exports" if _root is not None and (_root / "exports").is_dir() else None
        path = Path(tempfile.mkdtemp(prefix="nianbao-export-", dir=parent))  # 0700 wherever it is
        with self._lock:
            self._dirs.append((time.monotonic(), path))
        return path

    @staticmethod
    def seal(directory: Path) -> None:
        """Every file under ``directory`` readable by this user only."""
        for path in [directory, *directory.rglob("*")]:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)

    def sweep(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            old = [p for t, p in self._dirs if now - t >= self.max_age_s]
            self._dirs = [(t, p) for t, p in self._dirs if now - t < self.max_age_s]
        for path in old:
            _remove(path)

    def close(self) -> None:
        with self._lock:
            dirs, self._dirs = self._dirs, []
        for _, path in dirs:
            _remove(path)
