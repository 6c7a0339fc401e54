"""Deliberately endless steps, for the per-file time budget: module-level, so that a worker process
can import them by name. A file (or pasted text) marked ``SLOW`` never finishes: the step spins in
pure Python without ever calling back, like a reading whose cost explodes, so only killing the
worker can end it. Everything else goes through the real pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARK = "SLOW"


def _spin() -> None:
    n = 0
    while True:  # never returns, never yields: a hung reader
        n += 1


def process_file_or_hang(path: Path, sha: str, config: Any, settings: Any) -> dict[str, Any]:
    """BatchRunner.process for the tests: hangs on a file whose name contains SLOW."""
    from extractor.batch.runner import process_file

    if MARK in path.name:
        _spin()
    return process_file(path, sha, config, settings)


def extract_or_hang(doc: Any, config: Any = None, progress: Any = None) -> Any:
    """extract_document for the UI tests: reports progress once, then hangs on a text containing SLOW."""
    from extractor.pipeline import extract_document

    if MARK in doc.text:
        if progress is not None:
            progress("read", 0.1)
        _spin()
    return extract_document(doc, config, progress)
