"""Property tests: any consistent report, flattened any way real reports are, reads back exactly;
normalizer offsets always point at the character they came from."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from extractor.findings import doubted_cells
from extractor.normalize import normalize
from extractor.pipeline import extract_text
from extractor.schema import Report, empty_report, iter_cells, set_cell
from extractor.template_spec import ACTIVE_ROWS, REVIEW_COLUMNS, REVIEW_GROUPS
from tests.flatten import NO_BLANKS, STYLES, render

counts = st.integers(min_value=0, max_value=400)


@st.composite
def consistent_reports(draw: st.DrawFn, blanks: bool, templates: tuple[str, ...] = ("2019", "2021")) -> Report:
    template = draw(st.sampled_from(templates))
    report = empty_report(template)  # type: ignore[arg-type]
    report.year = 2020 if template == "2019" else draw(st.integers(2021, 2025))
    report.agency = draw(st.sampled_from(["某某区科学技术局", "某市人民政府办公室", "某县工业和信息化局"]))
    for key, _label, fields in ACTIVE_ROWS[template]:
        for f, _fl, kind in fields:
            path = f"active_disclosure.{key}.{f}"
            if kind == "unit":
                set_cell(report, path, draw(st.sampled_from([None, "元", "万元"])))
            elif kind == "decimal":
                whole = draw(st.integers(0, 99999))
                frac = draw(st.sampled_from(["", ".5", ".25", ".05"]))
                set_cell(report, path, f"{whole}{frac}")
            elif kind == "signed":
                set_cell(report, path, draw(st.integers(-30, 30)))
            else:
                set_cell(report, path, draw(counts))
    keys = report.application_keys()
    outcome = [k for k in keys if k not in ("new_received", "carried_over", "total", "carried_forward")]
    apps: dict[str, list[int | None]] = {}
    for k in outcome:
        cells = [draw(st.integers(0, 40)) if draw(st.booleans()) else 0 for _ in range(6)]
        apps[k] = cells + [sum(cells)]
    total = [sum(apps[k][c] or 0 for k in outcome) for c in range(7)]
    carried_over = [draw(st.integers(0, 5)) for _ in range(6)]
    carried_over.append(sum(carried_over))
    carried_forward = [min(carried_over[c], draw(st.integers(0, 5))) for c in range(6)]
    carried_forward.append(sum(carried_forward))
    new = [total[c] + carried_forward[c] - carried_over[c] for c in range(7)]
    apps.update(new_received=new, carried_over=carried_over, total=total, carried_forward=carried_forward)  # type: ignore[arg-type]
    if blanks and draw(st.booleans()):
        victim = draw(st.sampled_from(outcome))
        apps[victim] = [None] * 6 + [0] if draw(st.booleans()) else [None] * 7
    report.applications = {k: apps[k] for k in keys}
    for g, _ in REVIEW_GROUPS:
        parts = [draw(st.integers(0, 20)) for _ in range(4)]
        for (c, _), v in zip(REVIEW_COLUMNS, [*parts, sum(parts)]):
            set_cell(report, f"review_litigation.{g}.{c}", v)
    return report


def _same(a: Report, b: Report) -> list[str]:
    ca, cb = dict(iter_cells(a)), dict(iter_cells(b))
    return [p for p in ca if ca[p] != cb.get(p)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), style=st.sampled_from(sorted(set(STYLES) - {"glued"})))
def test_flattened_report_reads_back_exactly(data: st.DataObject, style: str) -> None:
    report = data.draw(consistent_reports(blanks=style not in NO_BLANKS))
    result = extract_text(render(report, style))
    assert result.status == "ok"
    assert (result.report.template, result.report.year, result.report.agency) == (report.template, report.year, report.agency)
    assert _same(report, result.report) == []
    assert all(e.status in ("grounded", "blank") for e in result.evidence.values())


@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_glued_report_reads_back_or_says_which_cells_are_ambiguous(data: st.DataObject) -> None:
    # 2021 only: a glued 2019 section 二 with signed changes (「37-8125」) is beyond what text alone decides
    report = data.draw(consistent_reports(blanks=False, templates=("2021",)))
    result = extract_text(render(report, "glued"))
    wrong = _same(report, result.report)
    flagged = doubted_cells(result.findings, result.evidence)
    assert set(wrong) <= flagged, f"silently wrong: {sorted(set(wrong) - flagged)}"
    # tables 三 and 四 carry their own arithmetic, so they must come back exactly
    assert not [p for p in wrong if p.startswith(("applications", "review_litigation"))] or flagged


noise = st.text(alphabet=st.sampled_from(list("０１２３４５６７８９（）：，?□\u3000\u00a0 \t\n-—數據統計總規範 abc(shù)")), max_size=80)


@settings(max_examples=200, deadline=None)
@given(noise)
def test_normalizer_offsets_map_back(original: str) -> None:
    norm = normalize(original)
    assert len(norm.offsets) == len(norm.text) + 1
    for i, ch in enumerate(norm.text):
        src = original[norm.to_original(i)]
        # the mapped character normalizes to this one on its own (context-free rules)
        single = normalize(src).text
        if single:
            assert single == ch or (src in "數據統計總規範" and len(single) == 1)
    # spans map into the original text in order
    assert list(norm.offsets[:-1]) == sorted(norm.offsets[:-1])
