"""Compact answer models for asking an LLM one report section at a time, and their way into ``Report``.

A section is asked as one flat JSON object whose keys are the template's rows in print order and whose
values are fixed-length arrays of cells (``int | null``), so the schema has no ``$ref`` and a
grammar-constrained local model can always produce it. The same specs build the models for a repair
round that re-asks only a few rows, which is why the models are made on demand from a row subset.

What the model writes is kept short, because on two CPU cores every answer token costs a forward pass:
a key is the row's short printed label (「国家秘密」, which also points the model at the line to copy;
code keeps the English key as the field name). Shorter row values were tried and dropped: with ``0``
allowed for a row printed all 0 and shown in the prompt, the 1.5B model wrote 0 for rows with numbers
too (non-zero cells of table 三 on two reports: 34/35 right before, 14/35 after); with ``null`` allowed
for a row it cannot find, it answered null for glued rows it had read before, and even for rows whose
source numbers the repair feedback spelled out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from extractor.schema import (
    ActiveDisclosure2019,
    ActiveDisclosure2021,
    CellValue,
    Report,
    ReviewLitigation,
    empty_report,
    get_cell,
    set_cell,
)
from extractor.template_spec import (
    ACTIVE_ROWS,
    ALL_APPLICATION_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    application_row_keys,
)

CellKind = Literal["int", "signed", "decimal", "text"]
SectionName = Literal["header", "section2", "section3", "section4"]

_DECIMAL_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
# 「[.]」 and not 「\.」: llama.cpp's schema-to-grammar converter emits an escape its own grammar parser
# rejects, and the server process dies on it.
DECIMAL_PATTERN = r"^-?[0-9]{1,15}([.][0-9]{1,6})?$"
TEXT_MAX = {"agency": 60}
SECTION4_UNIT = "review_litigation"  # table 四 is re-asked whole: it is one printed row


@dataclass(frozen=True)
class AnswerField:
    """One key of a section answer: a table row (array of cells) or a single cell.

    ``key`` names the field in code, tests and cached answers; ``name`` is the JSON key the model
    writes (the field's alias), a short printed label of the row.
    """

    key: str
    unit: str  # repair unit: "applications.granted", "active_disclosure.fees", "review_litigation.review"
    label: str
    columns: tuple[str, ...]
    paths: tuple[str, ...]
    kinds: tuple[CellKind, ...]
    array: bool
    name: str

    @property
    def annotation(self) -> Any:
        kind = self.kinds[0]
        cell: Any = (str | None) if kind in ("decimal", "text") else (int | None)
        if self.array:
            return list[cell]
        return cell

    def field_info(self) -> Any:
        # No descriptions: the prompt names the rows, and the grammar alone enforces the schema.
        if self.array:
            n = len(self.paths)
            return Field(alias=self.name, min_length=n, max_length=n)
        kind = self.kinds[0]
        # Bounded strings: under a grammar an unbounded string lets a small model ramble to max_tokens.
        if kind == "decimal":
            return Field(alias=self.name, pattern=DECIMAL_PATTERN, max_length=24)
        if kind == "text":
            return Field(alias=self.name, max_length=TEXT_MAX[self.key] if self.key in TEXT_MAX else 8)
        return Field(alias=self.name)


@dataclass(frozen=True)
class SectionSpec:
    name: SectionName
    number: int  # report section (2, 3, 4); 0 for the header
    prompt: str  # template file in prompts/
    fields: tuple[AnswerField, ...]
    template: str | None = None

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.unit for f in self.fields))

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p for f in self.fields for p in f.paths)

    def subset(self, units: set[str] | list[str] | tuple[str, ...]) -> SectionSpec:
        wanted = set(units)
        return replace(self, fields=tuple(f for f in self.fields if f.unit in wanted))

    def chunks(self, size: int) -> list[SectionSpec]:
        """Split into specs of at most ``size`` units each (for a model that struggles with long answers)."""
        units = self.units
        if size <= 0 or len(units) <= size:
            return [self]
        return [self.subset(units[i : i + size]) for i in range(0, len(units), size)]

    def model(self) -> type[BaseModel]:
        return _build_model(self.name, self.fields)

    def schema_json(self) -> str:
        return json.dumps(self.model().model_json_schema(), sort_keys=True, ensure_ascii=False)


@lru_cache(maxsize=256)
def _build_model(name: str, fields: tuple[AnswerField, ...]) -> type[BaseModel]:
    definitions: dict[str, Any] = {f.key: (f.annotation, f.field_info()) for f in fields}
    title = "".join(part.capitalize() for part in name.split("_")) + "Answer"
    # populate_by_name: cached answers and scripted test answers are stored under the code keys
    config = ConfigDict(extra="forbid", populate_by_name=True)
    model: type[BaseModel] = create_model(title, __config__=config, **definitions)
    return model


# ---- the specs

# The JSON key the model writes for each row of 三: distinctive words of its printed label, verbatim,
# so a repair prompt can find the row's lines by them.
APPLICATION_ROW_NAMES: dict[str, str] = {
    "new_received": "本年新收",
    "carried_over": "上年结转",
    "granted": "予以公开",
    "partially_granted": "部分公开",
    "denied_state_secret": "国家秘密",
    "denied_law_prohibited": "法规禁止",
    "denied_three_safety_one_stability": "三安全一稳定",
    "denied_third_party_rights": "第三方合法权益",
    "denied_internal_affairs": "内部事务",
    "denied_process_info": "过程性信息",
    "denied_enforcement_case": "行政执法案卷",
    "denied_admin_query": "行政查询",
    "unable_not_held": "不掌握",
    "unable_needs_creation": "另行制作",
    "unable_unclear_after_correction": "申请内容仍不明确",
    "not_processed_complaint": "信访举报投诉",
    "not_processed_duplicate": "重复申请",
    "not_processed_publication": "公开出版物",
    "not_processed_massive_repeat": "大量反复申请",
    "not_processed_confirm_info": "确认或重新出具",
    "other_processing": "其他处理",
    "other_overdue_correction": "逾期不补正",
    "other_overdue_fee": "逾期未按收费通知",
    "other_other": "其他",
    "total": "总计",
    "carried_forward": "结转下年度",
}
# 二: a row's printed label is its key; the cells of a mixed row (政府集中采购) are named by column.
ACTIVE_CELL_NAMES: dict[str, str] = {"items": "采购项目数量", "amount": "采购总金额", "amount_unit": "金额单位"}


def header_spec() -> SectionSpec:
    return SectionSpec(
        name="header",
        number=0,
        prompt="header.md.j2",
        fields=(
            AnswerField("agency", "agency", "发布报告的机关", ("机关名称",), ("agency",), ("text",), False, "agency"),
            AnswerField("year", "year", "统计年度", ("年份",), ("year",), ("int",), False, "year"),
        ),
    )


def section2_spec(template: str) -> SectionSpec:
    fields: list[AnswerField] = []
    for row_key, row_label, cols in ACTIVE_ROWS[template]:
        unit = f"active_disclosure.{row_key}"
        paths = tuple(f"{unit}.{fkey}" for fkey, _label, _kind in cols)
        kinds = tuple(_cell_kind(kind) for _f, _l, kind in cols)
        labels = tuple(label for _f, label, _k in cols)
        if len(cols) > 1 and (len(set(kinds)) == 1 or set(kinds) <= {"int", "signed"}):
            fields.append(AnswerField(row_key, unit, row_label, labels, paths, kinds, True, row_label))
        else:
            # single cells, or a row of mixed kinds (政府集中采购: count, amount, unit) as separate scalars
            for (fkey, flabel, _kind), path, kind in zip(cols, paths, kinds):
                key = row_key if len(cols) == 1 else f"{row_key}_{fkey}"
                name = row_label if len(cols) == 1 else ACTIVE_CELL_NAMES[fkey]
                fields.append(AnswerField(key, unit, f"{row_label}·{flabel}", (flabel,), (path,), (kind,), False, name))
    return SectionSpec(name="section2", number=2, prompt=f"section2_{template}.md.j2", fields=tuple(fields), template=template)


def _ints(n: int) -> tuple[CellKind, ...]:
    one: tuple[CellKind, ...] = ("int",)
    return one * n


def section3_spec(single_other_row: bool) -> SectionSpec:
    fields = []
    for key in application_row_keys(single_other_row):
        unit = f"applications.{key}"
        paths = tuple(f"{unit}[{i}]" for i in range(len(APPLICANT_COLUMNS)))
        fields.append(
            AnswerField(
                key, unit, ALL_APPLICATION_LABELS[key], APPLICANT_COLUMNS, paths, _ints(len(paths)), True,
                APPLICATION_ROW_NAMES[key],
            )
        )
    return SectionSpec(name="section3", number=3, prompt="section3.md.j2", fields=tuple(fields))


def section4_spec() -> SectionSpec:
    """Table 四 is one printed row of 15 numbers: asking for them in print order is what a small model
    copies best; the three groups of five are cut apart in code."""
    paths: list[str] = []
    cols: list[str] = []
    for group, group_label in REVIEW_GROUPS:
        for col, col_label in REVIEW_COLUMNS:
            paths.append(f"review_litigation.{group}.{col}")
            cols.append(f"{group_label}·{col_label}")
    field = AnswerField(
        "numbers", SECTION4_UNIT, "行政复议、行政诉讼情况", tuple(cols), tuple(paths), _ints(len(paths)), True, "numbers"
    )
    return SectionSpec(name="section4", number=4, prompt="section4.md.j2", fields=(field,))


def table_specs(template: str, single_other_row: bool) -> list[SectionSpec]:
    return [section2_spec(template), section3_spec(single_other_row), section4_spec()]


_CELL_KINDS: dict[str, CellKind] = {"int": "int", "signed": "signed", "decimal": "decimal", "unit": "text"}


def _cell_kind(kind: str) -> CellKind:
    return _CELL_KINDS[kind]


# ---- from answers to cells and back


def unit_of(path: str) -> str:
    """The repair unit a cell path belongs to: its table row (二, 三), or table 四 as a whole."""
    if path.startswith("applications."):
        return path.split("[", 1)[0]
    if path.startswith("review_litigation."):
        return SECTION4_UNIT
    if path.startswith("active_disclosure."):
        return path.rsplit(".", 1)[0]
    return path


def normalize_decimal(value: Any) -> str | None:
    """A decimal cell as the canonical string, or None when the answer is not an exact decimal."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    text = re.sub(r"[\s,，]|万元|元", "", str(value))
    return text if _DECIMAL_RE.match(text) else None


def answer_cells(spec: SectionSpec, answer: BaseModel | dict[str, Any]) -> dict[str, CellValue]:
    """Cell path → value for every cell the answer covers."""
    data = answer.model_dump() if isinstance(answer, BaseModel) else answer
    cells: dict[str, CellValue] = {}
    for f in spec.fields:
        raw = data.get(f.key)
        values = list(raw) if f.array and isinstance(raw, (list, tuple)) else [raw] * (1 if not f.array else 0)
        if f.array and len(values) != len(f.paths):
            values = (values + [None] * len(f.paths))[: len(f.paths)]
        for path, kind, value in zip(f.paths, f.kinds, values):
            cells[path] = _coerce(kind, value)
    return cells


def _coerce(kind: CellKind, value: Any) -> CellValue:
    if value is None:
        return None
    if kind == "decimal":
        return normalize_decimal(value)
    if kind == "text":
        text = str(value).strip()
        return text or None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    return None


def answer_from_report(spec: SectionSpec, report: Report) -> dict[str, Any]:
    """The answer a perfect reader would give for this section of ``report`` (few-shot examples, repair hints)."""
    out: dict[str, Any] = {}
    for f in spec.fields:
        if spec.name == "header":
            out[f.key] = report.agency if f.key == "agency" else report.year
            continue
        values = [get_cell(report, p) for p in f.paths]
        out[f.key] = values if f.array else values[0]
    return out


def named_answer(spec: SectionSpec, answer: dict[str, Any]) -> dict[str, Any]:
    """An answer keyed by code keys, re-keyed by the names the model writes (for examples shown to it)."""
    names = {f.key: f.name for f in spec.fields}
    return {names.get(k, k): v for k, v in answer.items()}


def format_answer(answer: dict[str, Any]) -> str:
    """Compact JSON with one key per line: short to read and close to what the model must write."""
    lines = [f"{json.dumps(k, ensure_ascii=False)}:{json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for k, v in answer.items()]
    return "{" + ",\n".join(lines) + "}"


def set_cell_safely(report: Report, path: str, value: CellValue) -> None:
    """``set_cell`` that first creates a section the report lacks (a reader that found no 二 or 四)."""
    if path.startswith("active_disclosure.") and report.active_disclosure is None:
        template = report.template or "2021"
        report.active_disclosure = (ActiveDisclosure2019() if template == "2019" else ActiveDisclosure2021())
    elif path.startswith("review_litigation.") and report.review_litigation is None:
        report.review_litigation = ReviewLitigation()
    set_cell(report, path, value)


def build_report(
    template: Literal["2019", "2021"],
    single_other_row: bool,
    cells: dict[str, CellValue],
    agency: str | None = None,
    year: int | None = None,
) -> Report:
    """A full report of the template with every cell of ``cells`` set and the rest blank."""
    report = empty_report(template, single_other_row)
    for path, value in cells.items():
        set_cell(report, path, value)
    report.agency = agency
    report.year = year
    return report


def detect_single_other_row(section3_text: str, template: str | None) -> bool:
    """Whether table 三 prints one （六）其他处理 row (2019 layout, also some 2021 reports) or three sub-rows."""
    compact = re.sub(r"\s+", "", section3_text)
    has_sub_rows = "逾期不补正" in compact or "缴纳费用" in compact or "逾期未按收费通知" in compact
    if has_sub_rows:
        return False
    if "其他处理" in compact or template == "2019":
        return True
    return template == "2019"
