"""The eval's figures as typed records whose JSON keeps the keys, in the order, that readers know.

``EngineSummary`` is one engine's figures over a dataset (``evals.runner.aggregate`` fills it); its
field order is the JSON's key order, the keys issue 4 names first. A record also reads like its JSON
object (``summary["cell_accuracy"]``, ``.get``, ``.items()``): the Markdown writer and the console
tables look figures up by key from one list (``evals.report_md.METRICS``), the same way for a record in
hand and for a JSON file read back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


def to_json(value: Any) -> Any:
    """A record, list or dict of records as plain JSON values (dicts in field order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


class JsonRecord(Mapping[str, Any]):
    """A dataclass that reads as its JSON object: keys are its fields, values their JSON form."""

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return to_json(getattr(self, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def _keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self))  # type: ignore[arg-type]  # subclasses are dataclasses

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = to_json(self)
        return result


@dataclass(frozen=True)
class FailedSample:
    sample: str
    status: str
    error: str | None


@dataclass(frozen=True)
class EvalCounts:
    """The raw counts behind an engine's rates, for pooling runs or checking a rate by hand."""

    cells: int
    cells_correct: int
    nonzero_cells: int
    nonzero_correct: int
    gold_zero_cells: int
    wrong_cells_checked: int
    flagged: int
    flagged_wrong: int
    attribution_checked: int
    attribution_correct: int


@dataclass(frozen=True, eq=False)
class EngineSummary(JsonRecord):
    """One engine's figures over a dataset. None: undefined (nothing to measure), never a perfect score."""

    # the keys issue 4 names, first
    reports: int
    cell_accuracy: float | None
    nonzero_accuracy: float | None
    false_nonzero: int
    reports_exact: int
    # no report read at all means no checker output to judge: undefined, not a perfect 1.0
    flag_recall: float | None
    flag_precision: float | None
    seconds_per_report: float | None
    # the rest
    cell_accuracy_by_section: dict[str, float | None]
    # the wider net: every operand of an equation attributed to the extraction counts as flagged
    flag_recall_with_equations: float | None
    flag_precision_with_equations: float | None
    false_nonzero_rate: float | None
    reports_failed: int
    failed_samples: list[FailedSample]
    agency_accuracy: float | None
    agency_alias_accuracy: float | None
    year_accuracy: float | None
    template_accuracy: float | None
    attribution_accuracy: float | None
    # the mutation test reads with one engine (MUTATION_ENGINE); the others have no figure
    mutation_detection: float | None
    # grounding runs after every engine alike, so a planted hallucination is flagged the same way
    hallucination_detection: float | None
    tokens_in_per_report: float | None
    tokens_out_per_report: float | None
    retries: float | None
    retries_per_report: float | None
    llm_calls_per_report: float | None
    cache_hits: float | None
    # per report, what each kind of call (header, section2, section3, section4, repair) cost
    tokens_by_section: dict[str, dict[str, float]]
    counts: EvalCounts = field(repr=False)
