"""Decoding a user's bytes: the encodings Chinese reports come in, and clear errors for everything else."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import opencc
import pytest

from extractor.errors import InputError
from extractor.ingest import MAX_BYTES, load_bytes, load_path, load_text
from extractor.ingest.encoding import decode_bytes


def _texts(shared: Path) -> list[Path]:
    return sorted((shared / "seeds").glob("*.txt")) + sorted((shared / "devset").glob("d*.txt"))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").lstrip("\ufeff")


@pytest.fixture(scope="module")
def texts(shared_dir: Path) -> list[tuple[str, str]]:
    return [(p.name, _read(p)) for p in _texts(shared_dir)]


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_every_seed_and_devset_text_round_trips(texts: list[tuple[str, str]], codec: str) -> None:
    for name, text in texts:
        doc = load_bytes(text.encode(codec), name)
        assert doc.text == text, f"{name} in {codec}"
        assert doc.format == "text"


def test_gb18030_is_never_read_as_big5_or_utf8(texts: list[tuple[str, str]]) -> None:
    for name, text in texts:
        assert load_bytes(text.encode("gb18030"), name).encoding == "gb18030", name
    # short GBK snippets whose bytes are also valid Big5 (both decodes succeed): GB18030 must win
    for snippet in ("政府信息公开工作年度报告", "一、总体情况", "予以公开", "总计", "结转下年度继续办理", "行政复议"):
        raw = snippet.encode("gb18030")
        raw.decode("big5")  # the trap is real: these bytes are valid Big5 as well
        text, encoding = decode_bytes(raw)
        assert (text, encoding) == (snippet, "gb18030")


def test_gb18030_four_byte_characters() -> None:
    text = "𠀀年度报告（总计）€"  # outside GBK: four-byte GB18030 sequences
    assert decode_bytes(text.encode("gb18030")) == (text, "gb18030")


def test_big5_traditional_text_is_read_as_big5(texts: list[tuple[str, str]]) -> None:
    to_traditional = opencc.OpenCC("s2t")

    def big5_only(text: str) -> str:
        return "".join(c for c in text if _encodable(c, "big5"))

    for name, text in texts[:6]:
        traditional = big5_only(to_traditional.convert(text))
        doc = load_bytes(traditional.encode("big5"), name)
        assert doc.encoding == "big5", name
        assert doc.text == traditional
    assert decode_bytes("政府資訊公開工作年度報告".encode("big5")) == ("政府資訊公開工作年度報告", "big5")


def _encodable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def test_bom_decides_over_guessing() -> None:
    text = "总计\n一、本年新收政府信息公开申请数量 29"
    assert decode_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le")) == (text, "utf-16")
    assert decode_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be")) == (text, "utf-16")
    assert decode_bytes(codecs.BOM_UTF8 + text.encode("utf-8")) == (text, "utf-8")


def test_html_meta_charset_is_honoured() -> None:
    body = "<html><head><meta charset='big5'></head><body><p>行政複議</p><p>總計</p><p>予以公開</p></body></html>"
    doc = load_bytes(body.encode("big5"), "page.html")
    assert (doc.format, doc.encoding) == ("html", "big5")
    assert doc.text.splitlines() == ["行政複議", "總計", "予以公開"]
    gb = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body><p>总计</p></body></html>'
    assert load_bytes(gb.encode("gb18030"), "page.htm").encoding == "gb18030"


def test_valid_utf8_beats_a_wrong_meta_charset() -> None:
    page = '<html><head><meta charset="gb2312"></head><body><p>政府信息公开工作年度报告</p></body></html>'
    doc = load_bytes(page.encode("utf-8"), "page.html")
    assert doc.encoding == "utf-8"
    assert doc.text.strip() == "政府信息公开工作年度报告"


def test_undecodable_bytes_are_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        load_bytes(b"\x80\x80abc\xff\xff def \x80" * 20, "x.txt")
    assert "decoded" in err.value.message
    assert "编码" in (err.value.hint_zh or "")


@pytest.mark.parametrize("junk", [
    bytes(range(256)) * 8,
    b"\x7fELF\x02\x01\x01\x00" + bytes(4000),
    os.urandom(1) + b"\x00\x01\x02\x03" * 500,
])
def test_binary_junk_is_an_input_error(junk: bytes) -> None:
    with pytest.raises(InputError) as err:
        load_bytes(junk, "x.txt")
    assert "binary" in err.value.message


def test_random_bytes_never_decode() -> None:
    rng = __import__("random").Random(7)
    for _ in range(30):
        with pytest.raises(InputError):
            load_bytes(bytes(rng.randrange(256) for _ in range(3000)), "x.bin")


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_empty_input_is_an_input_error(data: bytes) -> None:
    with pytest.raises(InputError) as err:
        load_bytes(data, "x.txt")
    assert "empty" in err.value.message


def test_empty_text_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_text("  \n ")
    (tmp_path / "e.txt").write_bytes(b"")
    with pytest.raises(InputError):
        load_path(tmp_path / "e.txt")


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # a sparse file: the size is real, the disk use is not
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(InputError) as err:
        load_path(big)
    assert "limit" in err.value.message
    with pytest.raises(InputError):
        load_bytes(b"a" * (MAX_BYTES + 1), "big.txt")


def test_images_and_other_archives_say_what_they_are() -> None:
    with pytest.raises(InputError) as err:
        load_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100), "scan.png")
    assert "OCR" in (err.value.hint_zh or "")
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputError) as err:
        load_bytes(buf.getvalue(), "table.xlsx")
    assert "not a Word document" in err.value.message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_path(tmp_path / "nope.txt")
    with pytest.raises(InputError):
        load_path(tmp_path)
