"""Files written whole or not at all: written beside the target and renamed into place, so an interrupted
export never leaves half a file where a person (or the next run) would read it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(target: Path, write: Callable[[Path], None], mode: int | None = None) -> Path:
    """Call ``write`` on a temporary file beside ``target``, then rename it into place. ``mode``: the
    file's permissions (0o600 for a private export); None: what the umask allows, as for any new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp_path, mode)  # mkstemp made it 0600
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return target


__all__ = ["write_atomically"]
