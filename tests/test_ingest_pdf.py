"""PDF: layout text like ``pdftotext -layout`` (table rows on one line, cells apart), and clear errors
for scans, encrypted and damaged files."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.ingest import load_bytes, load_path
from tests.conftest import shared_file

_PAGE_NUMBER = re.compile(r"^\s*-\s*\d+\s*-\s*$")


def _numbers(text: str, start: str, end: str) -> list[str]:
    """Every number between two headings, in reading order, page-number lines left out."""
    s = text.index(start)
    e = text.index(end, s)
    out: list[str] = []
    for line in text[s:e].splitlines():
        if not _PAGE_NUMBER.match(line):
            out += re.findall(r"\d+(?:\.\d+)?", line)
    return out


def _line_numbers(line: str) -> list[int]:
    """The numbers printed after a line's last Chinese character (its label)."""
    return [int(n) for n in re.sub(r"^.*[\u4e00-\u9fff（）、“”]", "", line).split()]


@pytest.fixture(scope="module")
def d001(shared_dir: Path) -> str:
    doc = load_path(shared_dir / "devset" / "d001.pdf")
    assert doc.format == "pdf" and doc.warnings == []
    return doc.text


def test_d001_section_three_rows_are_whole_lines(d001: str, shared_dir: Path) -> None:
    gold = json.loads((shared_dir / "devset" / "d001.json").read_text(encoding="utf-8"))
    section = d001[d001.index("三、收到和处理") : d001.index("四、政府信息公开行政复议")]
    rows = [_line_numbers(line) for line in section.splitlines() if not _PAGE_NUMBER.match(line)]
    for key, values in gold["applications"].items():
        assert values in rows, f"applications.{key} {values} is not one line of the PDF text"


def test_d001_section_four_is_one_line_of_fifteen(d001: str, shared_dir: Path) -> None:
    gold = json.loads((shared_dir / "devset" / "d001.json").read_text(encoding="utf-8"))
    review = gold["review_litigation"]
    expected = [review[g][c] for g in ("review", "litigation_direct", "litigation_after_review")
                for c in ("upheld", "corrected", "other", "pending", "total")]
    line = next(line for line in d001.splitlines() if line.strip().startswith("72 "))
    assert [int(n) for n in line.split()] == expected
    assert re.search(r"\d {2,}\d", line)  # cells apart by a run of spaces


def test_d001_columns_line_up_and_the_page_number_stands_alone(d001: str) -> None:
    lines = d001.splitlines()
    assert "-4-" in lines  # the page break inside table 三, on its own line
    rows = [line for line in lines if "一、本年新收" in line or "（七）总计" in line or "四、结转下年度" in line]
    assert len(rows) == 3
    # the 总计 column ends at the same character position on every row (one column per half a font size)
    ends = {row.rstrip().__len__() for row in rows}
    assert max(ends) - min(ends) <= 2
    assert "商业企" in d001 and "商 业" not in d001  # letter-spaced Chinese is joined


@pytest.mark.parametrize("name", ["d001", "d002", "d003"])
def test_numbers_read_as_pdftotext_reads_them(shared_dir: Path, name: str) -> None:
    """Same numbers in the same order as the poppler text the gold was read from, in every section."""
    mine = load_path(shared_file("devset", f"{name}.pdf")).text
    ref = (shared_dir / "devset" / f"{name}.txt").read_text(encoding="utf-8")
    assert _numbers(mine, "三、收到和处理", "五、") == _numbers(ref, "三、收到和处理", "五、")
    assert _numbers(mine, "二、主动公开", "三、收到和处理") == _numbers(ref, "二、主动公开", "三、收到和处理")
    assert re.sub(r"\s", "", mine)[:200] == re.sub(r"\s", "", ref)[:200]


# ---------------------------------------------------------------- synthetic PDFs
def _canvas_pdf(pages: list[list[tuple[float, float, str]]], **kwargs: object) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, **kwargs)  # type: ignore[arg-type]
    for items in pages:
        c.setFont("STSong-Light", 10)
        for x, y, text in items:
            c.drawString(x, y, text)
        c.rect(100, 100, 200, 100)  # a drawing, no text
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pages_are_joined_in_order_with_a_newline() -> None:
    first = [(72, 760, "2023年某局政府信息公开工作年度报告"), (72, 740, "一、总体情况")]
    second = [(72, 760, "二、主动公开政府信息情况"), (72, 740, "规章"), (200, 740, "1"), (260, 740, "0"), (320, 740, "11")]
    text = load_bytes(_canvas_pdf([first, second]), "r.pdf").text
    lines = [line.strip() for line in text.splitlines()]
    assert lines.index("一、总体情况") + 1 == lines.index("二、主动公开政府信息情况")
    row = next(line for line in text.splitlines() if line.lstrip().startswith("规章"))
    assert re.fullmatch(r"\s*规章 {2,}1 {2,}0 {2,}11", row)


def test_prose_keeps_single_spaces() -> None:
    pdf = _canvas_pdf([[(72, 760, "2023年某局政府信息公开工作年度报告"), (72, 740, "全年收到申请"), (134, 740, "3"), (143, 740, "件。")]])
    assert "全年收到申请 3 件。" in load_bytes(pdf, "r.pdf").text


def test_scanned_pdf_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        load_bytes(_canvas_pdf([[], []]), "scan.pdf")
    assert "该PDF没有文字层，可能是扫描件" in (err.value.hint_zh or "")
    assert "text layer" in err.value.message


def test_a_scanned_page_among_text_pages_is_a_warning() -> None:
    page = [(72, 760, "2023年某局政府信息公开工作年度报告"), (72, 740, "一、总体情况")]
    doc = load_bytes(_canvas_pdf([page, []]), "r.pdf")
    assert doc.warnings and "第 2 页" in doc.warnings[0]


def test_encrypted_pdf_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        load_bytes(_canvas_pdf([[(72, 760, "政府信息公开工作年度报告")]], encrypt="secret"), "r.pdf")
    assert "encrypted" in err.value.message


def test_damaged_pdf_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        load_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "r.pdf")
    assert "PDF" in err.value.message
    good = _canvas_pdf([[(72, 760, "2023年某局政府信息公开工作年度报告")]])
    with pytest.raises(InputError):
        load_bytes(good[: len(good) // 3], "r.pdf")  # truncated download
