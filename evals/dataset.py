"""Hand-labeled samples: a gold ``NAME.json`` in the canonical format beside its source ``NAME.<ext>``.

Any directory laid out that way is a dataset, so users can score engines on their own labeled
reports. A JSON file that is not a valid gold report, or a gold without a source, is recorded as a
load problem and skipped: one bad file never stops an evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from extractor.schema import Report

# When several sources share one gold, the first in this order is scored: text is what users paste
# and what the gold was read from; the others are kept as alternates.
SOURCE_SUFFIXES: tuple[str, ...] = (".txt", ".html", ".htm", ".docx", ".pdf")

# Keys a UI-confirmed record or an ``extract --json`` output carries beside the report itself.
_NON_REPORT_KEYS: frozenset[str] = frozenset({"findings", "evidence", "meta", "source_text", "status", "error"})

DEFAULT_SAMPLES_DIR: Path = Path(__file__).resolve().parent / "samples"


@dataclass
class Sample:
    name: str
    gold: Report
    source: Path
    gold_path: Path
    alternates: list[Path] = field(default_factory=list)

    @property
    def source_format(self) -> str:
        return self.source.suffix.lstrip(".").lower()


@dataclass
class LoadProblem:
    path: Path
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "reason": self.reason}


@dataclass
class Dataset:
    samples: list[Sample] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)


def parse_gold(data: Any) -> Report:
    """Validate a gold object through the canonical model, ignoring provenance keys beside it."""
    if not isinstance(data, dict):
        raise ValueError("a gold file must hold one JSON object")
    report_data = {k: v for k, v in data.items() if k not in _NON_REPORT_KEYS}
    return Report.model_validate(report_data)


def load_gold(path: Path) -> Report:
    return parse_gold(json.loads(path.read_text(encoding="utf-8")))


def _sources_for(gold_path: Path) -> list[Path]:
    stem = gold_path.with_suffix("")
    found = []
    for suffix in SOURCE_SUFFIXES:
        candidate = stem.with_name(stem.name + suffix)
        if candidate.is_file():
            found.append(candidate)
    return found


def load_dir(directory: Path) -> Dataset:
    """Every ``NAME.json`` of ``directory`` (not recursive) that has a source beside it."""
    dataset = Dataset()
    if not directory.is_dir():
        dataset.problems.append(LoadProblem(directory, "not a directory"))
        return dataset
    for gold_path in sorted(directory.glob("*.json")):
        sources = _sources_for(gold_path)
        if not sources:
            dataset.problems.append(LoadProblem(gold_path, "no source file (.txt/.html/.docx/.pdf) with the same name"))
            continue
        try:
            gold = load_gold(gold_path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError, ValueError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            dataset.problems.append(LoadProblem(gold_path, f"not a valid gold report: {first_line}"))
            continue
        dataset.samples.append(Sample(gold_path.stem, gold, sources[0], gold_path, sources[1:]))
    return dataset


def load_dirs(directories: list[Path]) -> Dataset:
    """Samples of several directories; a name seen twice is prefixed with its directory to stay unique."""
    merged = Dataset()
    seen: set[str] = set()
    for directory in directories:
        part = load_dir(directory)
        merged.problems.extend(part.problems)
        for sample in part.samples:
            if sample.name in seen:
                sample.name = f"{directory.name}/{sample.name}"
            seen.add(sample.name)
            merged.samples.append(sample)
    return merged
