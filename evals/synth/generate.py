"""Random annual reports with known truth, for tests and benchmarks that cannot be tuned to.

A ``Synthetic`` is a canonical report (the truth: what the report prints), its running text, and
whether its printed numbers are consistent. Both templates, all three tables: multi-digit counts among
many zeros, negative 本年增/减, decimal amounts with 元 and 万元, rows left blank, prose that opens with a
year right after a table, and (``consistent=False``) a printed number that breaks one of the template's
equations, as agencies' own errors do. One integer seed decides everything, so a corpus is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from evals.synth.documents import Prose
from extractor.schema import Report, empty_report, get_cell, iter_cells, set_cell
from extractor.template_spec import ACTIVE_ROWS, REVIEW_COLUMNS, REVIEW_GROUPS

# City-level bodies may make 规章; county and township bodies get none (template.md R-P1).
_CITY_BODIES = ("某市人民政府办公室", "某市科学技术局", "某市生态环境局", "某省交通运输厅", "某市司法局")
_LOCAL_BODIES = ("某县工业和信息化局", "某区教育局", "某镇人民政府", "某街道办事处")


@dataclass(frozen=True)
class Synthetic:
    seed: int
    report: Report
    prose: Prose
    consistent: bool
    broken: str | None = None  # the cell whose printed value breaks an equation (consistent=False)

    @property
    def name(self) -> str:
        return f"synth-{self.seed}"


def _count(rng: random.Random, scale: float = 1.0) -> int:
    """Mostly 0, sometimes small, now and then several digits (real tables look like this)."""
    r = rng.random()
    if r < 0.55:
        return 0
    if r < 0.80:
        return rng.randint(1, 9)
    if r < 0.80 + 0.12 * scale:
        return rng.randint(10, 99)
    if r < 0.80 + 0.18 * scale:
        return rng.randint(100, 999)
    return rng.randint(1000, 9999)


def _decimal(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return "0"
    whole = rng.choice([rng.randint(1, 9), rng.randint(10, 999), rng.randint(1000, 999999)])
    if r < 0.7:
        return str(whole)
    digits = rng.randint(1, 4)
    return f"{whole}.{rng.randint(1, 10 ** digits - 1):0{digits}d}".rstrip("0").rstrip(".") or "0"


def _section2(report: Report, rng: random.Random, local: bool) -> None:
    template = report.template or "2021"
    for key, _label, fields in ACTIVE_ROWS[template]:
        prev = 0
        for fkey, _flabel, kind in fields:
            path = f"active_disclosure.{key}.{fkey}"
            if kind == "unit":
                amount = get_cell(report, f"active_disclosure.{key}.amount")
                set_cell(report, path, rng.choice(["元", "万元", None]) if amount not in (None, "0") else None)
            elif kind == "decimal":
                set_cell(report, path, _decimal(rng))
            elif kind == "signed":
                change = 0 if rng.random() < 0.5 else rng.randint(-prev, max(prev, 30))
                set_cell(report, path, change)  # 上一年项目数量 + 本年增/减 ≥ 0 (R-Y3)
            else:
                value = 0 if key == "regulations" and local else _count(rng, 1.5)
                if fkey == "prev_items":
                    prev = value
                set_cell(report, path, value)


def _section3(report: Report, rng: random.Random) -> None:
    apps = report.applications or {}
    keys = list(apps)
    outcome = [k for k in keys if k not in ("new_received", "carried_over", "total", "carried_forward")]
    rows: dict[str, list[int | None]] = {}
    busy = [rng.random() < 0.8, *(rng.random() < 0.3 for _ in range(5))]  # 自然人 applies most
    for key in outcome:
        cells = [_count(rng, 0.6) if busy[c] and rng.random() < 0.5 else 0 for c in range(6)]
        rows[key] = [*cells, sum(cells)]
    total = [sum(rows[k][c] or 0 for k in outcome) for c in range(7)]
    carried_forward = [rng.choice([0, 0, 1, rng.randint(0, 20)]) if busy[c] else 0 for c in range(6)]
    carried_forward.append(sum(carried_forward))
    # what was carried in cannot exceed what was handled or carried on (本年新收 ≥ 0)
    carried_over = [min(total[c] + carried_forward[c], rng.choice([0, 0, 0, 1, 2, rng.randint(0, 30)])) for c in range(6)]
    carried_over.append(sum(carried_over))
    new = [total[c] + carried_forward[c] - carried_over[c] for c in range(7)]
    rows.update(new_received=[*new], carried_over=[*carried_over], total=[*total], carried_forward=[*carried_forward])
    for key in outcome:  # a row of zeros is sometimes printed as a row of blanks (template.md E5)
        if all(v == 0 for v in rows[key]) and rng.random() < 0.1:
            rows[key] = [None] * 7
    report.applications = {k: rows[k] for k in keys}


def _section4(report: Report, rng: random.Random) -> None:
    for group, _label in REVIEW_GROUPS:
        parts = [rng.choice([0, 0, 0, 0, 1, rng.randint(0, 12)]) for _ in range(4)]
        for (col, _), value in zip(REVIEW_COLUMNS, [*parts, sum(parts)]):
            set_cell(report, f"review_litigation.{group}.{col}", value)


def _break(report: Report, rng: random.Random) -> str:
    """Print one number that breaks an equation (the agency's own slip): a total or one of its parts."""
    if rng.random() < 0.75:
        apps = report.applications or {}
        key = rng.choice([k for k, row in apps.items() if row is not None])
        col = rng.choice([6, 6, rng.randint(0, 5)])
        path = f"applications.{key}[{col}]"
    else:
        group = rng.choice([g for g, _ in REVIEW_GROUPS])
        path = f"review_litigation.{group}.{rng.choice(['total', 'total', 'upheld', 'pending'])}"
    value = get_cell(report, path)
    old = value if isinstance(value, int) else 0
    set_cell(report, path, old + rng.choice([1, 1, 2, 3, 10]) if old < 3 or rng.random() < 0.5 else old - 1)
    return path


def _prose(report: Report, rng: random.Random) -> Prose:
    apps = report.applications or {}
    new_total = (apps.get("new_received") or [0] * 7)[6] or 0
    year = report.year
    overview = f"{year}年，本机关共收到政府信息公开申请{new_total}件，均已按时答复。" if rng.random() < 0.5 else Prose().overview
    fee_notices = (apps.get("other_overdue_fee") or [0] * 7)[6] or 0
    other = "本年度未收取信息处理费。" if not fee_notices else f"本年度发出信息处理费缴费通知{fee_notices}件。"
    docs = get_cell(report, "active_disclosure.normative_documents.issued" if report.template == "2021"
                    else "active_disclosure.normative_documents.made")
    licensing = get_cell(report, "active_disclosure.licensing.decisions")
    before_2 = f"本年度制发规范性文件{docs}件，办理行政许可{licensing}件。" if rng.random() < 0.3 else None
    before_3 = f"本年新收政府信息公开申请{new_total}件。" if rng.random() < 0.3 else None
    return Prose(
        overview=overview,
        before_2=before_2,
        before_3=before_3,
        after_2=f"{year}年，本机关持续做好主动公开工作。" if rng.random() < 0.3 else None,
        after_3=f"{year}年，本机关依法答复每一件申请。" if rng.random() < 0.3 else None,
        other=other,
    )


TEMPLATES: tuple[Literal["2019", "2021"], ...] = ("2019", "2021")


def generate(seed: int, consistent: bool | None = None, blank_zeros: float = 0.0) -> Synthetic:
    """The report of ``seed``; ``consistent`` None lets the seed decide (one in four breaks an equation).
    ``blank_zeros`` leaves that share of its zero cells blank, one by one (agencies that print nothing for
    0: template.md, "Blank cells are common"); a blank counts as 0, so the equations are unchanged."""
    rng = random.Random(seed)
    template = rng.choice(TEMPLATES)
    single_other = template == "2019" or rng.random() < 0.1  # some 2021 reports print one （六） row (E16)
    report = empty_report(template, single_other)
    report.year = rng.choice([2019, 2020]) if template == "2019" else rng.randint(2021, 2025)
    local = rng.random() < 0.4
    report.agency = rng.choice(_LOCAL_BODIES if local else _CITY_BODIES)
    _section2(report, rng, local)
    _section3(report, rng)
    _section4(report, rng)
    if consistent is None:
        consistent = rng.random() >= 0.25
    broken = None if consistent else _break(report, rng)
    synth = Synthetic(seed, report, _prose(report, rng), consistent, broken)
    if blank_zeros:
        _blank_zeros(synth, random.Random(seed * 7 + 1), blank_zeros)
    return synth


def _blank_zeros(synth: Synthetic, rng: random.Random, share: float) -> None:
    for path, value in iter_cells(synth.report):
        if path != synth.broken and not path.endswith("amount_unit") and value in (0, "0") and rng.random() < share:
            set_cell(synth.report, path, None)
