"""Turn the command line's INPUT arguments (files, directories, globs) into one ordered list of files."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

# Formats the ingest stage can render to text. A file named explicitly is taken whatever its
# extension (the loader then says clearly why it cannot read it); directories and globs only
# contribute files with these extensions, so a folder's images or spreadsheets are not "failures".
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset({".txt", ".html", ".htm", ".pdf", ".docx", ".doc", ".md"})

_GLOB_CHARS = frozenset("*?[")


@dataclass
class ExpandedInputs:
    files: list[Path] = field(default_factory=list)
    # arguments that named nothing: a missing path, or a glob/directory without a supported file
    unmatched: list[str] = field(default_factory=list)
    # files met inside directories or globs that were left out for their extension
    unsupported: list[Path] = field(default_factory=list)


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_EXTENSIONS


def _is_hidden(path: Path, root: Path) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = path.parts
    return any(part.startswith(".") for part in parts)


def _walk(directory: Path) -> list[Path]:
    """Every regular file under ``directory``, recursively, skipping hidden files and folders, sorted."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                found.append(Path(dirpath) / name)
    return found


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        # a symlink loop: kept as it is named, so the batch records it as unreadable instead of crashing
        return Path(os.path.abspath(path))


def _is_entry(path: Path) -> bool:
    """A name that exists and is not a directory: a file, or a pipe, device or broken link that the
    batch must account for (the loader then says clearly why it cannot read it)."""
    return os.path.lexists(path) and not path.is_dir()


def expand_inputs(arguments: list[str], exclude: list[Path] | None = None) -> ExpandedInputs:
    """Files in argument order (each directory's files sorted), every file once.

    ``exclude``: directories whose files are never inputs (the batch's own output folder).
    """
    out = ExpandedInputs()
    seen: set[Path] = set()
    excluded = [_resolved(p) for p in (exclude or [])]

    def is_excluded(path: Path) -> bool:
        return any(path == ex or ex in path.parents for ex in excluded)

    def add(path: Path, explicit: bool) -> bool:
        """True when ``path`` is an input (even one already listed by an earlier argument)."""
        resolved = _resolved(path)
        if is_excluded(resolved):
            return False
        if not explicit and not is_supported(path):
            out.unsupported.append(resolved)
            return False
        if resolved not in seen:
            seen.add(resolved)
            out.files.append(resolved)
        return True

    for arg in arguments:
        expanded = os.path.expanduser(arg)
        path = Path(expanded)
        found = False
        if _is_entry(path):
            found = add(path, explicit=True)
        elif path.is_dir():
            for f in _walk(path):
                found = add(f, explicit=False) or found
        elif _GLOB_CHARS & set(expanded):
            for match in sorted(glob.glob(expanded, recursive=True)):
                m = Path(match)
                if m.is_dir():
                    for f in _walk(m):
                        found = add(f, explicit=False) or found
                elif _is_entry(m):
                    found = add(m, explicit=False) or found
        if not found:
            # a missing path, or a directory or glob without a supported file
            out.unmatched.append(arg)
    return out
