"""A corpus of hostile and broken inputs, built on demand (nothing large is stored).

``CASES`` lists every input with the words its one-line error must contain (None where the input
reads and the pipeline decides) and the status its batch line must carry; ``build_corpus(dir)``
writes them all into ``dir`` (what the batch test reads). To add a case: write a builder in
``builders.py`` (directory, name) -> path, and append a ``HostileCase`` here. From a shell:
``python -m tests.hostile DIR`` builds the corpus into DIR.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.hostile import builders


@dataclass(frozen=True)
class HostileCase:
    name: str
    build: Callable[[Path], Path]  # writes the input into the directory, returns its path
    error: str | None  # words the one-line error contains; None: the file reads (the pipeline then decides)
    batch_status: str = "failed"  # its line in a batch's results.jsonl
    posix_only: bool = False  # FIFOs and symlinks

    def available(self) -> bool:
        return not self.posix_only or os.name == "posix"


CASES: tuple[HostileCase, ...] = (
    HostileCase("docx_xml_bomb", builders.docx_xml_bomb, "expands"),
    HostileCase("docx_lying_size", builders.docx_lying_size, "damaged"),
    HostileCase("docx_many_entries", builders.docx_many_entries, "entries"),
    HostileCase("pdf_content_bomb", builders.pdf_content_bomb, "expands"),
    HostileCase("pdf_form_bomb", builders.pdf_form_bomb, "expands"),
    HostileCase("pdf_run_length_bomb", builders.pdf_run_length_bomb, "expands"),
    HostileCase("pdf_many_pages", builders.pdf_many_pages, "pages"),
    HostileCase("html_deep_nesting", builders.html_deep_nesting, None, batch_status="not_a_report"),
    HostileCase("html_huge_markup", builders.html_huge_markup, "expands"),
    HostileCase("text_too_many_chars", builders.text_too_many_chars, "characters"),
    HostileCase("fifo", builders.fifo, "named pipe", posix_only=True),
    HostileCase("dev_zero_link", builders.dev_zero_link, "character device", posix_only=True),
    HostileCase("symlink_loop", builders.symlink_loop, "loops", posix_only=True),
    HostileCase("binary_junk", builders.binary_junk, "binary"),
)


def build_corpus(directory: Path, cases: tuple[HostileCase, ...] = CASES) -> dict[str, Path]:
    """Every available case written into ``directory``; name -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    return {case.name: case.build(directory) for case in cases if case.available()}


__all__ = ["CASES", "HostileCase", "build_corpus", "builders"]
