"""Grounding as its own judge: each kind of source the text cannot (or can) decide, built on a generated
report so that no devset report is special-cased.

A cell is ``grounded`` only when every reading the source admits gives it that value; a value chosen by
preference is output, never proven; a blank is a claim too.
"""

from __future__ import annotations

import dataclasses

from evals.synth.flatten import render
from evals.synth.generate import Synthetic, generate
from extractor.cjk_compat import RADICALS_SUPPLEMENT
from extractor.ingest import load_text
from extractor.normalize import normalize
from extractor.pipeline import extract_document, extract_text, recheck
from extractor.readings.source import admit
from extractor.schema import Report, get_cell, set_cell
from extractor.sections import analyze_layout


def _base(template: str, seed: int = 7) -> Synthetic:
    """A consistent generated report of the template (seed chosen by its template, not its numbers)."""
    for s in range(seed, seed + 200):
        synth = generate(s, consistent=True)
        if synth.report.template == template:
            return synth
    raise AssertionError(template)


def _with(synth: Synthetic, cells: dict[str, object], **prose: str | None) -> Synthetic:
    report = synth.report.model_copy(deep=True)
    for path, value in cells.items():
        set_cell(report, path, value)  # type: ignore[arg-type]
    return dataclasses.replace(synth, report=report, prose=dataclasses.replace(synth.prose, **prose))


def _read(synth: Synthetic, style: str):  # type: ignore[no-untyped-def]
    return extract_document(render(synth, style))


def test_a_signed_change_glued_between_two_counts_is_undecided_and_not_blamed_on_the_agency() -> None:
    # 「行政处罚2648-18538」: 2648 / -18 / 538, or -1 / 8538, -185 / 38 …: the sign fixes where 上一年项目数量 ends
    synth = _with(_base("2019"), {"active_disclosure.punishment.prev_items": 2648,
                                  "active_disclosure.punishment.change": -18,
                                  "active_disclosure.punishment.decisions": 538})
    result = _read(synth, "glued")
    ev = result.evidence
    assert ev["active_disclosure.punishment.prev_items"].status == "grounded"
    for field, truth in (("change", -18), ("decisions", 538)):
        e = ev[f"active_disclosure.punishment.{field}"]
        value = get_cell(result.report, f"active_disclosure.punishment.{field}")
        assert e.status == "unsupported" and e.undecided
        assert truth == value or truth in (e.alternatives or []), field
    assert not [f for f in result.findings if f.rule == "R-Y3" and f.attribution == "report"]


def test_a_glued_triple_is_never_proven_by_a_preference() -> None:
    # 「行政许可72171051」 is 72 / 17 / 1051; 72171 / 0 / 51 has a change of 0 (a preference), not a proof
    synth = _with(_base("2019"), {"active_disclosure.licensing.prev_items": 72,
                                  "active_disclosure.licensing.change": 17,
                                  "active_disclosure.licensing.decisions": 1051})
    result = _read(synth, "glued")
    for field, truth in (("prev_items", 72), ("change", 17), ("decisions", 1051)):
        path = f"active_disclosure.licensing.{field}"
        e = result.evidence[path]
        assert e.status == "unsupported", field
        assert truth == get_cell(result.report, path) or truth in (e.alternatives or [])
    # the true reading, typed by a person, is not contradicted either: it is one the text admits
    truth_report = result.report.model_copy(deep=True)
    for field, truth in (("prev_items", 72), ("change", 17), ("decisions", 1051)):
        set_cell(truth_report, f"active_disclosure.licensing.{field}", truth)
    _, evidence = recheck(truth_report, result.source_text)
    assert all(evidence[f"active_disclosure.licensing.{f}"].status == "unsupported" for f in ("prev_items", "change", "decisions"))
    assert not [f for f in evidence.values() if f.status == "mismatch"]


def test_a_count_glued_to_an_amount_is_undecided_and_a_triple_of_equal_numbers_is_not_left_blank() -> None:
    synth = _with(_base("2019"), {"active_disclosure.procurement.items": 395,
                                  "active_disclosure.procurement.amount": "73802895.90",
                                  "active_disclosure.procurement.amount_unit": "元",
                                  "active_disclosure.normative_documents.made": 12,
                                  "active_disclosure.normative_documents.published": 12,
                                  "active_disclosure.normative_documents.total_published": 12})
    result = _read(synth, "glued")
    for path in ("active_disclosure.procurement.items", "active_disclosure.procurement.amount"):
        assert result.evidence[path].status == "unsupported" and result.evidence[path].alternatives
    for field in ("made", "published", "total_published"):
        path = f"active_disclosure.normative_documents.{field}"
        assert get_cell(result.report, path) is not None
        assert result.evidence[path].status in ("grounded", "unsupported")
        assert result.evidence[path].status == "grounded" or result.evidence[path].alternatives


def test_a_year_that_opens_the_prose_after_a_table_is_not_a_cell() -> None:
    # 「四、结转下年度继续办理20000022025年，我局…」 and 「行政事业性收费02025年，…」
    base = _base("2021")
    year = base.report.year
    apps = dict(base.report.applications or {})
    synth = _with(base, {"active_disclosure.fees.amount_10k_yuan": "0"},
                  after_2=f"{year}年，本机关持续做好主动公开工作。", after_3=f"{year}年，本机关依法答复每一件申请。")
    result = _read(synth, "glued")
    assert result.report.active_disclosure is not None
    assert get_cell(result.report, "active_disclosure.fees.amount_10k_yuan") in ("0", 0)
    assert result.evidence["active_disclosure.fees.amount_10k_yuan"].status == "grounded"
    assert (result.report.applications or {})["carried_forward"] == apps["carried_forward"]


def test_a_converter_row_that_keeps_two_of_three_cells_flags_all_three() -> None:
    # 「| 规章 | 22 | 235 |」 under 制发 | 废止 | 现行有效, the third cell floated away: not 22 / 235 / blank
    base = _base("2021")
    synth = _with(base, {"active_disclosure.regulations.issued": 22, "active_disclosure.regulations.repealed": 0,
                         "active_disclosure.regulations.in_force": 235})
    text = render(synth, "markdown").text
    row = next(line for line in text.splitlines() if line.startswith("| 规章 |"))
    text = text.replace(row, "0\n" + "| 规章 | 22 | 235 |")
    result = extract_document(load_text(text))
    for field in ("issued", "repealed", "in_force"):
        assert result.evidence[f"active_disclosure.regulations.{field}"].status == "unsupported", field


def test_an_enumerator_before_a_label_variant_is_not_a_value() -> None:
    # 「2.其他法律和行政法规禁止公开」 (with 和): the 2 is the label's number, in glued text and in HTML tables
    base = _base("2021")
    for style in ("glued", "html", "tabs"):
        text = render(base, style).text.replace("2.其他法律行政法规禁止公开", "2.其他法律和行政法规禁止公开")
        result = extract_text(text)
        row = (result.report.applications or {}).get("denied_law_prohibited")
        truth = (base.report.applications or {})["denied_law_prohibited"]
        assert row == truth or all(result.evidence[f"applications.denied_law_prohibited[{c}]"].status != "grounded"
                                   for c in range(7) if (row or [None] * 7)[c] != truth[c]), style
        prev = (result.report.applications or {}).get("denied_state_secret")
        assert prev == (base.report.applications or {})["denied_state_secret"], style


def test_a_total_row_printing_one_value_among_zeros_is_flagged_not_left_blank() -> None:
    base = _base("2021")
    zero_rows = {f"applications.{k}[{c}]": 0 for k in (base.report.applications or {}) for c in range(7)}
    synth = _with(base, zero_rows)
    text = render(synth, "glued").text.replace("（七）总计0000000", "（七）总计1")
    assert "（七）总计1" in text
    result = extract_text(text)
    flagged = {p for p, e in result.evidence.items() if e.status in ("mismatch", "unsupported")}
    assert any(p.startswith("applications.total[") for p in flagged)


def test_kangxi_radicals_in_a_pdf_text_layer_read_as_the_plain_characters() -> None:
    # PDFs printed from a browser: 「⼆、主动公开」 with U+2F06 for 二, 「⾏政许可」 with U+2F8F, 「⻅」 for 见
    base = _base("2021")
    plain = render(base, "layout").text
    kangxi = {"二": "\u2f06", "行": "\u2f8f", "一": "\u2f00", "人": "\u2f08", "见": "\u2ec5", "长": "\u2ed3"}
    assert RADICALS_SUPPLEMENT["\u2ec5"] == "见"
    text = plain.translate(str.maketrans(kangxi))
    assert text != plain and "\u2f06" in text
    assert normalize(text).text == normalize(plain).text
    a, b = extract_text(plain), extract_text(text)
    assert a.report == b.report and not [f for f in b.findings if f.rule == "R-F1"]


def test_a_table_the_source_prints_but_the_report_leaves_out_is_flagged() -> None:
    base = _base("2021")
    text = render(base, "pipes").text
    report = Report.model_validate({**base.report.canonical(), "applications": None, "review_litigation": None})
    findings, evidence = recheck(report, text)
    left_out = [f for f in findings if f.rule == "G1" and f.attribution == "extraction"]
    assert {f.cells[0].split(".")[0] for f in left_out} >= {"applications"}
    assert any(e.status == "mismatch" for p, e in evidence.items() if p.startswith("applications."))


def test_a_run_of_eighty_glued_digits_is_read_without_enumerating_its_cuts() -> None:
    base = _base("2021")
    text = render(base, "glued").text
    start = text.index("（一）予以公开") + len("（一）予以公开")
    end = text.index("（二）部分公开")
    text = text[:start] + ("1234567890" * 8) + text[end:]
    norm = normalize(text)
    readings = admit(norm, analyze_layout(norm))
    row = readings.rows["applications.granted"]
    assert row.exhausted  # too long to weigh its equation: every grammatical cut is kept, none is proven
    assert all(len(opts) > 1 for opts in row.options)


def test_a_section_that_prints_numbers_but_no_recognisable_table_leaves_nothing_trusted() -> None:
    # a layout that broke table 四's headers beyond recognition: its numbers still stand in section 四, so
    # a report that leaves the table out is doubted there (a blank is a claim), not shown as fine
    synth = _with(_base("2021"), {"review_litigation.review.other": 1, "review_litigation.review.total": 1})
    text = render(synth, "layout").text
    head, four = text.split("四、政府信息公开行政复议", 1)
    body, tail = four.split("五、", 1)
    numbers = [line for line in body.splitlines() if line.strip() and not any("\u4e00" <= ch <= "\u9fff" for ch in line)]
    garbled = "四、政府信息公开行政复议、行政诉讼情况\n（表头无法识别）\n" + "\n".join(numbers) + "\n五、"
    result = extract_document(load_text(head + garbled + tail, "garbled.txt"))
    readings_ev = result.evidence
    for path in ("review_litigation.review.other", "review_litigation.review.total"):
        value = get_cell(result.report, path)
        assert value == 1 or readings_ev[path].status == "unsupported", (path, value, readings_ev.get(path))
    assert any(path.startswith("review_litigation.") and ev.status == "unsupported" and ev.note
               and "找不到表格" in ev.note for path, ev in readings_ev.items())


def test_a_page_footer_that_cuts_a_row_of_one_cell_per_line_leaves_nothing_silently_wrong() -> None:
    # PDF text, one cell per line, with 「7 / 9」 or 「8」 printed between two numbers of a row: the numbers
    # after it are taken by no row (or by the next one, by order); which are the row's, the text does not say
    from evals.scoring import compare_cells
    from extractor.equations import EQUATION_RULES
    from extractor.findings import doubted_cells

    for seed, footer in ((1357, "7 / 7"), (2040, "7 / 9"), (1960, "6 / 11"), (2008, "8")):
        synth = generate(seed)
        lines = render(synth, "cell_per_line").text.split("\n")
        three = next(i for i, line in enumerate(lines) if line.startswith("三、"))
        five = next(i for i, line in enumerate(lines) if line.startswith("五、"))
        # between two lines that hold numbers of the same row, the first such place after a non-zero number
        cut = next(i for i in range(three + 1, five - 1)
                   if lines[i].strip().isdigit() and lines[i + 1].strip().isdigit() and lines[i].strip() != "0")
        lines.insert(cut + 1, footer)
        result = extract_document(load_text("\n".join(lines), f"{seed}.txt"))
        flagged = doubted_cells(result.findings, result.evidence, skip_rules=EQUATION_RULES)
        silent = [c.path for c in compare_cells(synth.report, result.report) if not c.equal and c.path not in flagged]
        assert not silent, (seed, footer, silent)
