"""Word files: paragraphs and tables in document order, merged cells, and .doc through LibreOffice."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document

from extractor.errors import InputError
from extractor.ingest import load_bytes, load_path, sniff_format
from extractor.ingest.docx import libreoffice


def _save(document) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _sample() -> bytes:
    d = Document()
    d.add_paragraph("某局2023年政府信息公开工作年度报告")
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    t = d.add_table(rows=4, cols=5)
    t.cell(0, 0).merge(t.cell(0, 1)).text = "项目"
    t.cell(0, 2).text, t.cell(0, 3).text, t.cell(0, 4).text = "自然人", "其他", "总计"
    t.cell(1, 0).merge(t.cell(2, 0)).text = "（三）不予公开"  # group label merged down two rows
    t.cell(1, 1).text = "1.属于国家秘密"
    t.cell(2, 1).text = "2.其他法律行政法规禁止公开"
    t.cell(1, 2).text, t.cell(1, 4).text = "2", "2"              # 其他 left blank
    t.cell(1, 3).merge(t.cell(2, 3)).text = "0"                   # a value merged down two rows
    t.cell(2, 2).text, t.cell(2, 4).text = "1", "1"
    t.cell(3, 0).merge(t.cell(3, 1)).text = "（七）总计"
    t.cell(3, 2).text, t.cell(3, 3).text, t.cell(3, 4).text = "3", "0", "3"
    p = d.add_paragraph("四、政府信息公开行政复议、")
    p.add_run("行政诉讼情况")
    return _save(d)


def test_paragraphs_and_tables_in_document_order() -> None:
    doc = load_bytes(_sample(), "r.docx")
    assert doc.format == "docx"
    assert doc.text.splitlines() == [
        "某局2023年政府信息公开工作年度报告",
        "三、收到和处理政府信息公开申请情况",
        "项目\t自然人\t其他\t总计",
        "（三）不予公开\t1.属于国家秘密\t2\t0\t2",
        "2.其他法律行政法规禁止公开\t1\t\t1",    # merged label and merged 0 belong to the row above
        "（七）总计\t3\t0\t3",
        "四、政府信息公开行政复议、行政诉讼情况",
    ]


def test_blank_cells_stay_in_their_columns() -> None:
    d = Document()
    t = d.add_table(rows=2, cols=4)
    for i, text in enumerate(["结果维持", "结果纠正", "其他结果", "总计"]):
        t.cell(0, i).text = text
    t.cell(1, 0).text, t.cell(1, 3).text = "5", "5"
    assert load_bytes(_save(d), "r.docx").text.splitlines() == ["结果维持\t结果纠正\t其他结果\t总计", "5\t\t\t5"]


def test_breaks_and_tabs_inside_paragraphs() -> None:
    d = Document()
    p = d.add_paragraph("规章")
    p.add_run().add_tab()
    p.add_run("1")
    p.add_run().add_break()
    p.add_run("二、主动公开")
    assert load_bytes(_save(d), "r.docx").text.splitlines() == ["规章\t1", "二、主动公开"]


def test_docx_is_sniffed_by_content(tmp_path: Path) -> None:
    path = tmp_path / "download.bin"
    path.write_bytes(_sample())
    assert load_path(path).format == "docx"


def test_damaged_docx_is_an_input_error() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<not-xml")
    with pytest.raises(InputError) as err:
        load_bytes(buf.getvalue(), "r.docx")
    assert "Word" in err.value.message
    with pytest.raises(InputError):
        load_bytes(_sample()[:500], "r.docx")  # a truncated download


OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def test_doc_without_libreoffice_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert sniff_format(OLE_HEADER, "old.doc") == "doc"
    monkeypatch.setenv("PATH", str(tmp_path))  # no libreoffice/soffice to find
    with pytest.raises(InputError) as err:
        load_bytes(OLE_HEADER, "old.doc")
    assert "LibreOffice" in err.value.message
    assert "LibreOffice" in (err.value.hint_zh or "")


@pytest.mark.slow
@pytest.mark.skipif(libreoffice() is None, reason="LibreOffice is not installed")
def test_doc_is_converted_with_libreoffice(tmp_path: Path) -> None:
    src = tmp_path / "r.docx"
    src.write_bytes(_sample())
    exe = libreoffice()
    assert exe is not None
    subprocess.run([exe, f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless", "--convert-to", "doc",
                    "--outdir", str(tmp_path / "out"), str(src)], check=True, capture_output=True, timeout=180)
    doc = load_path(tmp_path / "out" / "r.doc")
    assert doc.format == "doc"
    assert doc.text.splitlines() == load_bytes(_sample(), "r.docx").text.splitlines()

