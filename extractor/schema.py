"""Typed model of one annual report; its JSON is the contract of ../shared/spec/canonical-json.md.

The models are shaped so that ``Report.model_dump(mode="json")`` is the canonical JSON itself: blank
cells are ``None`` (never 0), a missing row or section is ``None`` as a whole, and decimal amounts are
strings so that no float rounding can creep in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from extractor.template_spec import ALL_APPLICATION_LABELS, OTHER_ROWS_2019, OTHER_ROWS_2021, application_row_keys

Cell = int | None
DecimalStr = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$")]

_STRICT = ConfigDict(extra="forbid", validate_assignment=True)


class _Row(BaseModel):
    model_config = _STRICT


# ---- 二、主动公开政府信息情况, template 2021
class DocRow2021(_Row):
    issued: Cell = None
    repealed: Cell = None
    in_force: Cell = None


class Decisions2021(_Row):
    decisions: Cell = None


class Fees2021(_Row):
    amount_10k_yuan: DecimalStr | None = None


class ActiveDisclosure2021(_Row):
    regulations: DocRow2021 | None = None
    normative_documents: DocRow2021 | None = None
    licensing: Decisions2021 | None = None
    punishment: Decisions2021 | None = None
    coercion: Decisions2021 | None = None
    fees: Fees2021 | None = None


# ---- 二, template 2019
class DocRow2019(_Row):
    made: Cell = None
    published: Cell = None
    total_published: Cell = None


class ItemRow2019(_Row):
    prev_items: Cell = None
    change: Cell = None
    decisions: Cell = None


class Fees2019(_Row):
    prev_items: Cell = None
    change: Cell = None


class Procurement2019(_Row):
    items: Cell = None
    amount: DecimalStr | None = None
    amount_unit: str | None = None


class ActiveDisclosure2019(_Row):
    regulations: DocRow2019 | None = None
    normative_documents: DocRow2019 | None = None
    licensing: ItemRow2019 | None = None
    other_services: ItemRow2019 | None = None
    punishment: ItemRow2019 | None = None
    coercion: ItemRow2019 | None = None
    fees: Fees2019 | None = None
    procurement: Procurement2019 | None = None


# ---- 四
class ReviewGroup(_Row):
    upheld: Cell = None
    corrected: Cell = None
    other: Cell = None
    pending: Cell = None
    total: Cell = None


class ReviewLitigation(_Row):
    review: ReviewGroup | None = None
    litigation_direct: ReviewGroup | None = None
    litigation_after_review: ReviewGroup | None = None


ApplicationRow = list[Cell] | None


class Report(BaseModel):
    """One report in canonical form. ``applications`` keeps the printed （六） layout as its keys."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    agency: str | None = None
    year: int | None = None
    template: Literal["2019", "2021"] | None = None
    active_disclosure: ActiveDisclosure2021 | ActiveDisclosure2019 | None = None
    applications: dict[str, ApplicationRow] | None = None
    review_litigation: ReviewLitigation | None = None

    @field_validator("applications")
    @classmethod
    def _check_rows(cls, value: dict[str, ApplicationRow] | None) -> dict[str, ApplicationRow] | None:
        if value is None:
            return None
        for key, row in value.items():
            if key not in ALL_APPLICATION_LABELS:
                raise ValueError(f"unknown applications row {key!r}")
            if row is not None and len(row) != 7:
                raise ValueError(f"applications.{key} must have 7 cells, has {len(row)}")
        if any(k in value for k in OTHER_ROWS_2019) and any(k in value for k in OTHER_ROWS_2021):
            raise ValueError("applications mixes the single （六）其他处理 row with its three 2021 sub-rows")
        return value

    @model_validator(mode="before")
    @classmethod
    def _pick_active_model(cls, data: Any) -> Any:
        # The two section-二 shapes share key names (regulations, licensing…); the template decides.
        if isinstance(data, dict) and isinstance(data.get("active_disclosure"), dict):
            ad = data["active_disclosure"]
            fields_2019 = {"other_services", "procurement"}
            looks_2019 = bool(fields_2019 & set(ad)) or any(
                isinstance(v, dict) and ({"made", "prev_items"} & set(v)) for v in ad.values()
            )
            model = ActiveDisclosure2019 if looks_2019 else ActiveDisclosure2021
            data = dict(data)
            data["active_disclosure"] = model.model_validate(ad)
        return data

    @property
    def single_other_row(self) -> bool:
        apps = self.applications or {}
        return any(k in apps for k in OTHER_ROWS_2019) or (
            not any(k in apps for k in OTHER_ROWS_2021) and self.template == "2019"
        )

    def application_keys(self) -> tuple[str, ...]:
        return application_row_keys(self.single_other_row)

    def canonical(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, **extra: Any) -> str:
        data = self.canonical()
        data.update(extra)
        return json.dumps(data, ensure_ascii=False, indent=1)


def empty_report(template: Literal["2019", "2021"], single_other_row: bool | None = None) -> Report:
    """A report of the given template with every section present and every cell blank."""
    if single_other_row is None:
        single_other_row = template == "2019"
    apps: dict[str, ApplicationRow] = {k: [None] * 7 for k in application_row_keys(single_other_row)}
    active: ActiveDisclosure2019 | ActiveDisclosure2021
    if template == "2021":
        active = ActiveDisclosure2021(
            regulations=DocRow2021(), normative_documents=DocRow2021(), licensing=Decisions2021(),
            punishment=Decisions2021(), coercion=Decisions2021(), fees=Fees2021(),
        )
    else:
        active = ActiveDisclosure2019(
            regulations=DocRow2019(), normative_documents=DocRow2019(), licensing=ItemRow2019(),
            other_services=ItemRow2019(), punishment=ItemRow2019(), coercion=ItemRow2019(),
            fees=Fees2019(), procurement=Procurement2019(),
        )
    return Report(
        template=template,
        active_disclosure=active,
        applications=apps,
        review_litigation=ReviewLitigation(review=ReviewGroup(), litigation_direct=ReviewGroup(), litigation_after_review=ReviewGroup()),
    )


# ---- cell paths: "applications.total[6]", "active_disclosure.fees.amount_10k_yuan", "review_litigation.review.total"
_PATH_RE = re.compile(r"^(applications)\.(\w+)\[(\d)\]$|^(active_disclosure|review_litigation)\.(\w+)\.(\w+)$")

CellValue = int | str | None


def iter_cells(report: Report) -> list[tuple[str, CellValue]]:
    """Every numeric (or unit) cell of the report that exists, as (canonical path, value), in print order."""
    out: list[tuple[str, CellValue]] = []
    if report.active_disclosure is not None:
        for row_key, row in report.active_disclosure:
            if row is None:
                continue
            for field, value in row:
                out.append((f"active_disclosure.{row_key}.{field}", value))
    if report.applications is not None:
        for row_key in report.application_keys():
            row = report.applications.get(row_key)
            if row is None:
                continue
            for i, value in enumerate(row):
                out.append((f"applications.{row_key}[{i}]", value))
    if report.review_litigation is not None:
        for group_key, group in report.review_litigation:
            if group is None:
                continue
            for field, value in group:
                out.append((f"review_litigation.{group_key}.{field}", value))
    return out


@lru_cache(maxsize=4096)
def _parse_path(path: str) -> re.Match[str] | None:
    return _PATH_RE.match(path)


def get_cell(report: Report, path: str) -> CellValue:
    m = _parse_path(path)
    if not m:
        raise KeyError(f"not a cell path: {path}")
    if m.group(1):
        row = (report.applications or {}).get(m.group(2))
        return None if row is None else row[int(m.group(3))]
    section = getattr(report, m.group(4))
    row_model = None if section is None else getattr(section, m.group(5), None)
    return None if row_model is None else getattr(row_model, m.group(6))


def report_from_record(record: Mapping[str, Any]) -> Report:
    """The report inside a record that carries more beside it (findings, evidence, meta, batch fields)."""
    return Report.model_validate({k: record.get(k) for k in Report.model_fields})


def get_int(report: Report, path: str) -> int | None:
    """The cell's integer, or None where it is blank, not an integer, or not a cell of this template."""
    try:
        value = get_cell(report, path)
    except (KeyError, IndexError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def set_cell(report: Report, path: str, value: CellValue) -> None:
    """Set one cell in place, creating its row if the report lacked it."""
    m = _PATH_RE.match(path)
    if not m:
        raise KeyError(f"not a cell path: {path}")
    if m.group(1):
        apps = dict(report.applications or {})
        row = list(apps.get(m.group(2)) or [None] * 7)
        row[int(m.group(3))] = value if value is None else int(value)
        apps[m.group(2)] = row
        report.applications = apps
        return
    section = getattr(report, m.group(4))
    if section is None:
        raise KeyError(f"report has no {m.group(4)} section to hold {path}")
    row_model = getattr(section, m.group(5))
    if row_model is None:
        field_info = type(section).model_fields[m.group(5)]
        row_cls = next(a for a in getattr(field_info.annotation, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel))
        row_model = row_cls()
        setattr(section, m.group(5), row_model)
    setattr(row_model, m.group(6), value)
