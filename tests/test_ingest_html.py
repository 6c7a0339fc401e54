"""HTML pages: table structure (rowspan, colspan, &nbsp;), page chrome, fragments and pasted markup."""

from __future__ import annotations

from pathlib import Path

from extractor.ingest import load_bytes, load_path, load_text
from extractor.ingest.html import html_to_text, looks_like_html


def _table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "\t" in line]


def _between(lines: list[str], start: str, end: str | None) -> list[str]:
    i = next(n for n, line in enumerate(lines) if line.startswith(start))
    j = len(lines) if end is None else next(n for n, line in enumerate(lines) if line.startswith(end) and n > i)
    return lines[i:j]


def test_d014_html_tables_match_the_reference_rendering(shared_dir: Path) -> None:
    doc = load_path(shared_dir / "devset" / "d014.html")
    assert (doc.format, doc.encoding) == ("html", "utf-8")
    mine = _table_lines(doc.text)
    ref = [line.rstrip("\n") for line in (shared_dir / "devset" / "d014.txt").read_text(encoding="utf-8").splitlines(True)
           if "\t" in line and line.strip()]
    # 三: every row from 新收 to 结转下年度, cell for cell (blank cells included)
    assert _between(mine, "一、本年新收", "行政复议") == _between(ref, "一、本年新收", "行政复议")
    # 四: the data row of 15 cells, blanks kept
    assert mine[-1] == ref[-1] == "5\t\t\t2\t7\t8\t\t\t1\t9\t\t\t\t\t"
    # header rows carry the same labels; merged header cells leave empty cells in the rows they cover
    for m, r in zip(_between(mine, "（本列数据", "一、本年新收"), _between(ref, "（本列数据", "一、本年新收"), strict=True):
        assert [c for c in m.split("\t") if c] == [c for c in r.split("\t") if c]
    # 二: the printed cells, counted in order (the page's colspans disagree between header and data)
    assert "行政许可\t0\t0\t0" in mine
    assert "政府集中采购\t6\t251000元" in mine
    assert "规章\t13\t13\t524" in mine


def test_d014_html_prose_is_one_line_per_paragraph(shared_dir: Path) -> None:
    text = load_path(shared_dir / "devset" / "d014.html").text
    lines = text.splitlines()
    assert lines[0] == "2019年上海市人民政府办公厅政府信息公开工作年度报告"
    assert "一、总体情况" in lines
    assert "三、收到和处理政府信息公开申请情况" in lines
    assert "<p" not in text and "</" not in text and "&nbsp;" not in text and "&lt;" not in text
    assert "《上海市贯彻<长江三角洲区域一体化发展规划纲要>实施方案》" in text  # entities decoded


SPANS = """
<table>
  <tr><td rowspan="2" colspan="2">项目</td><td colspan="3">申请人</td></tr>
  <tr><td>甲</td><td>乙</td><td>丙</td></tr>
  <tr><td rowspan="3">（三）不予公开</td><td>1.国家秘密</td><td>4</td><td>&nbsp;</td><td>4</td></tr>
  <tr><td>2.法律禁止</td><td rowspan="2">0</td><td>1</td><td>1</td></tr>
  <tr><td>3.三安全</td><td> </td><td><p>&nbsp;</p></td></tr>
  <tr><td colspan="2">（七）总计</td><td>4</td><td>1</td><td>5</td></tr>
</table>
"""


def test_rowspan_colspan_and_blank_cells() -> None:
    assert html_to_text(SPANS).splitlines() == [
        "项目\t申请人",
        "甲\t乙\t丙",                 # the merged 项目 cell covers the label columns: no cell there
        "（三）不予公开\t1.国家秘密\t4\t\t4",
        "2.法律禁止\t0\t1\t1",           # the group label belongs to its first row only
        "3.三安全\t\t\t",               # the merged 0 belongs to the row above: an empty cell here
        "（七）总计\t4\t1\t5",            # a label colspan is one cell
    ]


def test_colspan_in_data_columns_is_one_cell() -> None:
    page = ("<table><tr><td>信息内容</td><td>上一年项目数量</td><td colspan=2>本年增/减</td><td>处理决定数量</td></tr>"
            "<tr><td>行政许可</td><td colspan=2>3</td><td>-1</td><td>7</td></tr></table>")
    assert html_to_text(page).splitlines() == ["信息内容\t上一年项目数量\t本年增/减\t处理决定数量", "行政许可\t3\t-1\t7"]


def test_cell_lines_join_without_spaces_between_chinese() -> None:
    page = "<table><tr><td>本年新<br/>制作数量</td><td><p>Total</p><p>Count</p></td><td>1</td></tr></table>"
    assert html_to_text(page).splitlines() == ["本年新制作数量\tTotal Count\t1"]


def test_page_chrome_is_dropped_and_article_header_kept() -> None:
    page = """<!DOCTYPE html><html><head><title>站点</title><style>p{color:red}</style>
    <script>var n = 12345;</script></head><body>
    <header><a>首页</a> 访问量 999</header><nav><li>政务公开 888</li></nav>
    <article><header><h1>某县2023年政府信息公开工作年度报告</h1></header>
    <p>一、总体情况</p><p style="display:none">隐藏 777</p><div hidden>隐藏 666</div>
    <p>本年 收到
       申请 3 件。</p><form><input value="555"></form></article>
    <aside>相关链接 444</aside><footer>版权所有 333</footer></body></html>"""
    text = html_to_text(page)
    assert text.splitlines() == ["某县2023年政府信息公开工作年度报告", "一、总体情况", "本年 收到 申请 3 件。"]
    for junk in ("12345", "999", "888", "777", "666", "555", "444", "333", "color"):
        assert junk not in text


def test_layout_table_around_the_article_is_read_as_blocks() -> None:
    page = """<html><body><table><tr><td>
      <p>二、主动公开政府信息情况</p>
      <table><tr><td>规章</td><td>1</td><td>0</td><td>11</td></tr></table>
      <p>三、收到和处理政府信息公开申请情况</p>
    </td></tr></table></body></html>"""
    assert html_to_text(page).splitlines() == ["二、主动公开政府信息情况", "规章\t1\t0\t11", "三、收到和处理政府信息公开申请情况"]


def test_title_kept_when_the_body_does_not_name_the_report() -> None:
    page = "<html><head><title>某局2022年政府信息公开工作年度报告</title></head><body><p>一、总体情况</p></body></html>"
    assert html_to_text(page).splitlines()[0] == "某局2022年政府信息公开工作年度报告"


def test_html_is_recognised_by_content_and_extension() -> None:
    fragment = "<p>一、总体情况</p><p>二、主动公开</p><table><tr><td>规章</td><td>1</td></tr></table>"
    assert looks_like_html(fragment)
    assert not looks_like_html("一、总体情况\n<本报告> 规章 1 件 </p>")
    assert load_bytes(fragment.encode("utf-8"), "report.txt").format == "html"   # content wins over .txt
    assert load_bytes(fragment.encode("utf-8")).format == "html"                   # no name at all
    assert load_bytes("<b>一、总体情况</b>".encode(), "x.htm").format == "html"      # the extension alone
    pasted = load_text(fragment)
    assert pasted.format == "html"
    assert pasted.text.splitlines() == ["一、总体情况", "二、主动公开", "规章\t1"]
    assert load_text("一、总体情况\n规章 1").format == "text"


def test_gb2312_page_with_meta(tmp_path: Path) -> None:
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
            "<body><p>行政复议</p><table><tr><td>结果维持</td><td>总计</td></tr><tr><td>1</td><td>1</td></tr></table></body></html>")
    path = tmp_path / "report.htm"
    path.write_bytes(page.encode("gb18030"))
    doc = load_path(path)
    assert (doc.format, doc.encoding) == ("html", "gb18030")
    assert doc.text.splitlines() == ["行政复议", "结果维持\t总计", "1\t1"]
