"""Find the six sections, the template version, the statistical year and the issuing agency.

All offsets are into the normalized text. A heading counts only where it stands as a heading: at the
start of a line or right after a numbering like 「二、」, so a preface that lists all six titles in one
sentence (seed 004) is not taken for the sections themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.normalize import NormalizedText
from extractor.template_spec import MARKERS_2019, MARKERS_2021, TemplateVersion

_NUM = r"[一二三四五六七八九十1-9]"

_SECTION_TITLES: dict[int, str] = {
    1: r"总\s*体\s*情\s*况",
    2: r"(?:行政机关)?主\s*动\s*公\s*开\s*政\s*府\s*信\s*息\s*情\s*况",
    3: r"(?:行政机关)?收\s*到\s*和\s*处\s*理\s*政\s*府\s*信\s*息\s*公\s*开\s*申\s*请\s*情\s*况",
    4: r"(?:政府信息公开)?(?:行\s*政\s*复\s*议\s*[、与和及,]?\s*行\s*政\s*诉\s*讼\s*情\s*况|因政府信息公开工作?被申请行政复议[、,]?提起行政诉讼情况)",
    5: r"(?:政府信息公开工作)?存\s*在\s*的\s*主\s*要\s*问\s*题\s*及\s*改\s*进\s*情\s*况",
    6: r"其\s*他\s*需\s*要\s*报\s*告\s*的\s*事\s*项",
}
_TITLE_RES: dict[int, re.Pattern[str]] = {n: re.compile(t) for n, t in _SECTION_TITLES.items()}
_PREFIX_BEFORE_RE = re.compile(rf"(?:(?:^|\n)[ \t#>*|]*(?:{_NUM}\s*[、.,:．]\s*)?|{_NUM}\s*[、.,．]\s*)$")

# Where headings are missing, the tables themselves mark their sections.
_TABLE_MARKERS: dict[int, re.Pattern[str]] = {
    2: re.compile(r"第二十条\s*第\s*\(\s*一\s*\)\s*项"),
    3: re.compile(r"勾稽关系|本年新收政府信息公开申请数量"),
    4: re.compile(r"行政复议[^\n]{0,40}\n?[^\n]{0,40}结果维持|结果维持[\s|\t]*结果纠正"),
}

_YEAR_RES: tuple[re.Pattern[str], ...] = (
    re.compile(r"统计(?:期限|周期|时限|时间|区间)[^0-9]{0,16}(20\d\d)\s*年?\s*0?1\s*月?\s*0?1\s*日?"),
    re.compile(r"自\s*(20\d\d)\s*年\s*0?1\s*月\s*0?1\s*日\s*(?:起\s*)?至\s*(?:\1\s*年\s*)?12\s*月\s*31\s*日"),
    re.compile(r"(20\d\d)\s*年度?\s*[^\n。]{0,40}?政府信息公开工作(?:年度)?报告"),
    re.compile(r"统计(?:期限|周期)[^0-9]{0,16}(20\d\d)"),
)

_TITLE = r"政府信息公开\s*(?:工作)?\s*(?:年度)?\s*报告"
_AGENCY_CHARS = r"[\u4e00-\u9fff()（）]"
_AGENCY_RES: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?:^|\n|标题\s*:?\s*)[ \t]*(?P<a>{_AGENCY_CHARS}{{2,40}}?)\s*(?:关于)?\s*20\d\d\s*年度?\s*(?:的)?\s*{_TITLE}"),
    re.compile(rf"(?:^|\n|标题\s*:?\s*)[ \t]*20\d\d\s*年度?\s*(?P<a>{_AGENCY_CHARS}{{2,40}}?)\s*{_TITLE}"),
    re.compile(rf"由\s*(?P<a>{_AGENCY_CHARS}{{2,30}}?)\s*(?:负责)?(?:编制|根据|依据|按照)"),
)


@dataclass
class DocumentLayout:
    sections: dict[int, tuple[int, int]] = field(default_factory=dict)
    headings: dict[int, tuple[int, int]] = field(default_factory=dict)
    template: TemplateVersion | None = None
    template_markers: list[str] = field(default_factory=list)
    year: int | None = None
    year_span: tuple[int, int] | None = None
    agency: str | None = None
    agency_span: tuple[int, int] | None = None
    is_report: bool = True
    not_report_reason: str | None = None
    text: str = ""

    def section_text(self, n: int) -> str:
        span = self.sections.get(n)
        return "" if span is None else self.text[span[0] : span[1]]

    def missing_sections(self) -> list[int]:
        return [n for n in range(1, 7) if n not in self.headings]


def _find_headings(text: str) -> dict[int, tuple[int, int]]:
    """Pick one heading per section so that the chosen headings stand in order."""
    candidates: dict[int, list[tuple[int, int]]] = {}
    for n, pattern in _TITLE_RES.items():
        candidates[n] = [
            (m.start(), m.end()) for m in pattern.finditer(text)
            if _PREFIX_BEFORE_RE.search(text[max(0, m.start() - 12) : m.start()]) or m.start() == 0
        ]
    chosen: dict[int, tuple[int, int]] = {}
    pos = 0
    for n in range(1, 7):
        after = [c for c in candidates[n] if c[0] >= pos]
        if not after:
            continue
        chosen[n] = after[0]
        pos = after[0][1]
    # A preface listing 「总体情况、主动公开…、收到和处理…」 on one line can win section 1 and 2 too early:
    # when a later candidate of the same section exists before the next chosen heading, take the later one.
    ordered = sorted(chosen)
    for idx, n in enumerate(ordered):
        limit = chosen[ordered[idx + 1]][0] if idx + 1 < len(ordered) else len(text)
        later = [c for c in candidates[n] if chosen[n][0] < c[0] < limit]
        if later and _is_line_start(text, later[-1][0]) and not _is_line_start(text, chosen[n][0]):
            chosen[n] = later[-1]
    return chosen


def _is_line_start(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return re.fullmatch(rf"[ \t#>*|]*(?:{_NUM}\s*[、.,:．]\s*)?", text[line_start:pos]) is not None


def _section_spans(text: str, headings: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    found = dict(headings)
    for n, marker in _TABLE_MARKERS.items():
        if n in found:
            continue
        prev_start = max((found[k][0] for k in found if k < n), default=0)
        m = marker.search(text, prev_start)
        if m:
            found[n] = (m.start(), m.start())
    starts = sorted((span[0], n) for n, span in found.items())
    spans: dict[int, tuple[int, int]] = {}
    for idx, (start, n) in enumerate(starts):
        end = starts[idx + 1][0] if idx + 1 < len(starts) else len(text)
        spans[n] = (start, end)
    return spans


def detect_template(text: str, spans: dict[int, tuple[int, int]]) -> tuple[TemplateVersion | None, list[str]]:
    region = text[spans[2][0] : spans[2][1]] if 2 in spans else text
    compact = re.sub(r"\s+", "", region)
    hits_2019 = [m for m in MARKERS_2019 if m in compact]
    hits_2021 = [m for m in MARKERS_2021 if m != "缴纳费用" and m in compact]
    if len(hits_2019) > len(hits_2021):
        return "2019", hits_2019
    if hits_2021:
        return "2021", hits_2021
    return None, []


def detect_year(text: str) -> tuple[int | None, tuple[int, int] | None]:
    head = text[:6000]
    for pattern in _YEAR_RES:
        m = pattern.search(head)
        if m:
            year = int(m.group(1))
            if 2008 <= year <= 2100:
                return year, (m.start(1), m.end(1))
    return None, None


def detect_agency(text: str) -> tuple[str | None, tuple[int, int] | None]:
    head = text[:3000]
    for pattern in _AGENCY_RES:
        for m in pattern.finditer(head):
            name = m.group("a").strip()
            name = re.sub(r"^(?:关于|本|我)", "", name)
            if len(name) >= 2 and not re.search(r"报告|条例|根据|按照|通知", name):
                return name, (m.start("a"), m.start("a") + len(m.group("a")))
    return None, None


def analyze_layout(norm: NormalizedText) -> DocumentLayout:
    text = norm.text
    headings = _find_headings(text)
    spans = _section_spans(text, headings)
    template, markers = detect_template(text, spans)
    year, year_span = detect_year(text)
    agency, agency_span = detect_agency(text)
    layout = DocumentLayout(
        sections=spans, headings=headings, template=template, template_markers=markers, year=year,
        year_span=year_span, agency=agency, agency_span=agency_span, text=text,
    )
    table_sections = [n for n in (2, 3, 4) if n in spans]
    has_title = re.search(_TITLE, text[:5000]) is not None
    if not table_sections and not (has_title and len(headings) >= 3):
        layout.is_report = False
        if not text.strip():
            layout.not_report_reason = "the text is empty after normalization"
        else:
            layout.not_report_reason = (
                "no section of a 政府信息公开工作年度报告 was found (no 主动公开/申请/复议 tables, no template headings)"
            )
    return layout
