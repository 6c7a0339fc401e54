"""PDF → layout text in the manner of ``pdftotext -layout``: one printed line per text line, table
cells on their row's line separated by runs of spaces, pages joined by a newline.

Words come from pdfplumber with their positions. Each word is placed at the column its x position
gives (one column = half the table font's size, one character per column, as pdftotext counts), so
numbers in one table column line up across rows. Words closer than a character apart are joined by
one space (or none), so prose reads as prose.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import statistics
from dataclasses import dataclass
from typing import Any

from extractor.errors import InputError
from extractor.ingest.limits import ENV_VARS, InputLimits, current_limits, too_many_chars
from extractor.ingest.pdf_bounds import PdfReadBudget, bounded_pdf_streams

# pdfminer logs a warning for every font it finds odd ("Could not get FontBBox…", dozens for one
# browser-printed PDF) and Python prints library warnings on the terminal when nothing is configured.
# They say nothing a reader of the report can act on; errors still get through.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

# Words whose vertical middles are closer than this share of their height sit on one line.
_SAME_LINE = 0.5
# Gaps (in units of the word height) below which words touch, and above which they are separate cells.
_TOUCH_GAP = 0.15
_CELL_GAP = 0.6
# Letter-spaced Chinese leaves gaps of about 0.3 of the height; table cells are 0.8 or more apart.
_LETTER_GAP = 0.5
# Fewer printed characters than this in the whole file: no text layer, a scan.
_MIN_TEXT_CHARS = 20
_CID_RE = re.compile(r"\(cid:\d+\)")
_PAGE_NUMBER_RE = re.compile(r"^\s*([-—–－_])\s*(\d{1,3})\s*([-—–－_])\s*$")


@dataclass
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def _wide(ch: str) -> bool:
    return ord(ch) > 0x2E7F  # CJK punctuation, ideographs, full-width forms


def _is_password_error(exc: BaseException) -> bool:
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (PDFPasswordIncorrect, PDFEncryptionError)) or any(
            isinstance(a, (PDFPasswordIncorrect, PDFEncryptionError)) for a in getattr(seen, "args", ())
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _limit_inside(exc: BaseException) -> InputError | None:
    """An expansion limit that pdfplumber wrapped in its own exception type."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, InputError):
            return seen
        inner = next((a for a in getattr(seen, "args", ()) if isinstance(a, InputError)), None)
        if inner is not None:
            return inner
        seen = seen.__cause__ or seen.__context__
    return None


def scanned_error() -> InputError:
    return InputError(
        "the PDF has no text layer (a scanned document?); run OCR on it first",
        hint="OCR the PDF, or give the report as text, HTML or Word",
        hint_zh="该PDF没有文字层，可能是扫描件，请先进行文字识别（OCR）或提供文本、网页、Word 版本",
    )


def _group_lines(words: list[_Word]) -> list[list[_Word]]:
    lines: list[list[_Word]] = []
    for word in sorted(words, key=lambda w: (w.middle, w.x0)):
        if lines:
            line = lines[-1]
            mid = statistics.fmean(w.middle for w in line)
            height = min(min(w.height for w in line), word.height)
            if abs(word.middle - mid) <= _SAME_LINE * height:
                line.append(word)
                continue
        lines.append([word])
    return [sorted(line, key=lambda w: w.x0) for line in lines]


@dataclass(frozen=True)
class _Rule:
    """A vertical table ruling: a cell border between two words means they are separate cells."""

    x: float
    top: float
    bottom: float


def _ruled_between(rules: list[_Rule], a: _Word, b: _Word) -> bool:
    mid = (a.middle + b.middle) / 2
    return any(a.x1 - 1 <= r.x <= b.x0 + 1 and r.top - 1 <= mid <= r.bottom + 1 for r in rules)


def _render_line(line: list[_Word], left: float, unit: float, rules: list[_Rule]) -> str:
    out = ""
    prev: _Word | None = None
    for word in line:
        target = max(0, round((word.x0 - left) / unit))
        if prev is None:
            out = " " * target
        else:
            gap = word.x0 - prev.x1
            height = min(word.height, prev.height)
            if _ruled_between(rules, prev, word):
                sep = max(2, target - len(out))
            elif gap < _TOUCH_GAP * height:
                sep = 0
            elif gap < _LETTER_GAP * height and _wide(prev.text[-1]) and _wide(word.text[0]):
                sep = 0  # letter-spaced Chinese (「商 业 企」): no space belongs between two Chinese characters
            elif gap < _CELL_GAP * height:
                sep = 1
            else:
                sep = max(2, target - len(out))
            out += " " * sep
        out += word.text
        prev = word
    m = _PAGE_NUMBER_RE.match(out)
    if m:  # "- 4 -" → "-4-", the footer form the normalizer drops
        return "".join(m.groups())
    return out.rstrip()


def _page_content(page: Any) -> tuple[list[_Word], list[_Rule]]:  # a pdfplumber page (untyped library)
    raw = page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False, use_text_flow=False)
    words = [_Word(w["text"], w["x0"], w["x1"], w["top"], w["bottom"]) for w in raw if w["text"].strip()]
    rules = [
        _Rule((e["x0"] + e["x1"]) / 2, e["top"], e["bottom"])
        for e in page.edges
        if e.get("orientation") == "v" and e["bottom"] - e["top"] > 3
    ]
    return words, rules


def _too_many_pages(limits: InputLimits) -> InputError:
    env = ENV_VARS["max_pdf_pages"]
    return InputError(f"the PDF has more than {limits.max_pdf_pages} pages (raise {env} if the file is genuine)",
                      hint_zh=f"PDF 页数过多（超过 {limits.max_pdf_pages} 页）；如确为正常文件，可调高环境变量 {env}")


def _read_pages(pdf: Any, limits: InputLimits, budget: PdfReadBudget) -> list[tuple[list[_Word], list[_Rule]]]:  # a pdfplumber PDF
    """Words and rulings page by page, each page's layout dropped once read, within the limits."""
    from pdfminer.pdfpage import PDFPage

    # Count through the page tree lazily: pdfplumber would build every page object first.
    if sum(1 for _ in itertools.islice(PDFPage.create_pages(pdf.doc), limits.max_pdf_pages + 1)) > limits.max_pdf_pages:
        raise _too_many_pages(limits)
    content: list[tuple[list[_Word], list[_Rule]]] = []
    chars = 0
    for number, page in enumerate(pdf.pages, start=1):
        with budget.page(number):
            words, rules = _page_content(page)
        page.close()  # the layout objects of a page are large; only the words are kept
        chars += sum(len(w.text) for w in words)
        if chars > limits.max_chars:
            raise too_many_chars(chars, limits)
        content.append((words, rules))
    return content


def pdf_to_text(data: bytes, limits: InputLimits | None = None) -> tuple[str, list[str]]:
    """Return (text, warnings). Raises InputError for a broken, encrypted, scanned or oversized PDF."""
    import pdfplumber

    limits = limits or current_limits()
    warnings: list[str] = []
    try:
        with bounded_pdf_streams(limits) as budget, pdfplumber.open(io.BytesIO(data)) as pdf:
            content = _read_pages(pdf, limits, budget)
    except InputError:
        raise
    except Exception as exc:  # pdfminer raises many types (PDFSyntaxError, KeyError…) for damaged files
        if _is_password_error(exc):
            raise InputError("the PDF is encrypted with a password", hint="give an unprotected copy",
                             hint_zh="该PDF已加密（需要密码），请提供未加密的文件") from exc
        limit = _limit_inside(exc)
        if limit is not None:
            raise limit from None
        raise InputError(f"the PDF cannot be read ({type(exc).__name__})",
                         hint_zh="PDF 文件已损坏，无法读取") from exc
    pages = [words for words, _ in content]
    all_words = [w for words in pages for w in words]
    printed = sum(len(w.text) for w in all_words)
    if printed < _MIN_TEXT_CHARS:
        raise scanned_error()
    unmapped = sum(len(m.group()) for w in all_words for m in _CID_RE.finditer(w.text))
    if unmapped > 0.3 * printed:
        raise InputError(
            "the PDF's fonts carry no character map: its text cannot be extracted (OCR it instead)",
            hint_zh="该PDF的字体缺少文字编码映射，无法提取文字，请先进行文字识别（OCR）或提供其他格式",
        )
    if unmapped:
        warnings.append("PDF 中有少量字符无法识别（字体缺少编码映射），已略去")
        for words in pages:
            for w in words:
                w.text = _CID_RE.sub("", w.text)
            words[:] = [w for w in words if w.text.strip()]
    empty = [str(i + 1) for i, words in enumerate(pages) if not words]
    if empty:
        warnings.append(f"第 {'、'.join(empty)} 页没有文字层（可能是扫描页），这些页的内容未读取")
    # One column unit for the whole file, from the smaller (table) font, so columns agree across pages.
    heights = sorted(w.height for w in all_words)
    unit = max(heights[len(heights) // 10] / 2, 2.5)
    left = min(w.x0 for w in all_words)
    rendered = [
        "\n".join(_render_line(line, left, unit, rules) for line in _group_lines(words)) for words, rules in content
    ]
    return "\n".join(rendered) + "\n", warnings
