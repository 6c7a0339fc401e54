"""Row-label patterns of tables 二 and 三, tolerant of wrapping, typos seen in real reports and glued
enumerators. Patterns run on normalized text (half-width punctuation, Simplified characters)."""

from __future__ import annotations

import re
from dataclasses import dataclass


def _loose(word: str) -> str:
    """A word that may be broken by whitespace (wrapped labels, 「商业 企业」)."""
    return r"\s*".join(re.escape(ch) for ch in word)


def _enum(n: str) -> str:
    """An optional enumerator such as 「2.」「2、」「(二)」 before a sub-row label."""
    return rf"(?:{n}\s*[.、,．]\s*)?"


def _alt(*words: str) -> str:
    return "(?:" + "|".join(_loose(w) for w in words) + ")"


# (row key, regex). The enumerator is part of the label so it is masked with it.
TABLE3_LABELS: dict[str, str] = {
    "new_received": rf"(?:一\s*[、.,]\s*)?{_alt('本年新收', '本年度新收')}",
    "carried_over": rf"(?:二\s*[、.,]\s*)?{_alt('上年结转', '上年度结转')}",
    "granted": rf"(?:\(\s*一\s*\)\s*)?{_alt('予以公开')}(?!\s*及)",
    "partially_granted": rf"(?:\(\s*二\s*\)\s*)?{_alt('部分公开')}",
    "denied_state_secret": rf"{_enum('1')}{_alt('属于国家秘密', '国家秘密')}",
    "denied_law_prohibited": rf"{_enum('2')}{_alt('其他法律行政法规禁止公开', '法规禁止公开', '行政止公开', '禁止公开')}",
    "denied_three_safety_one_stability": rf"{_enum('3')}{_alt('危及', '三安全一稳定')}",
    "denied_third_party_rights": rf"{_enum('4')}{_alt('保护第三方', '第三方合法权益')}",
    "denied_internal_affairs": rf"{_enum('5')}{_alt('属于三类内部事务', '属于三类内容事务', '三类内部事务', '内部事务信息')}",
    "denied_process_info": rf"{_enum('6')}{_alt('属于四类过程性', '四类过程性', '过程性信息')}",
    "denied_enforcement_case": rf"{_enum('7')}{_alt('属于行政执法案卷', '行政执法案卷')}",
    "denied_admin_query": rf"{_enum('8')}{_alt('属于行政查询事项', '行政查询事项')}",
    "unable_not_held": rf"{_enum('1')}{_alt('本机关不掌握', '不掌握相关')}",
    "unable_needs_creation": rf"{_enum('2')}{_alt('没有现成信息', '需要另行制作')}",
    "unable_unclear_after_correction": rf"{_enum('3')}{_alt('补正后申请内容', '补正后')}",
    "not_processed_complaint": rf"{_enum('1')}{_alt('信访举报投诉', '信访举报')}",
    "not_processed_duplicate": rf"{_enum('2')}{_alt('重复申请')}",
    "not_processed_publication": rf"{_enum('3')}{_alt('要求提供公开出版物', '公开出版物')}",
    "not_processed_massive_repeat": rf"{_enum('4')}{_alt('无正当理由大量反复', '大量反复申请')}",
    "not_processed_confirm_info": rf"{_enum('5')}{_alt('要求行政机关确认', '确认或重新出具')}",
    "other_processing": rf"(?:\(\s*六\s*\)\s*)?{_alt('其他处理')}",
    "other_overdue_correction": rf"{_enum('1')}{_alt('申请人无正当理由逾期不补', '逾期不补正', '逾期不补')}",
    "other_overdue_fee": rf"{_enum('2')}{_alt('申请人逾期未按收费', '逾期未按收费', '缴纳费用')}",
    "other_other": rf"{_enum('3')}{_loose('其他')}(?!\s*(?:处理|法律|对外|结果|组织|需要))",
    "total": rf"(?:\(\s*七\s*\)\s*){_loose('总计')}|(?<![\u4e00-\u9fff])总\s*计(?=[\s|\t]*\d)",
    "carried_forward": rf"(?:四\s*[、.,]\s*)?{_alt('结转下年度', '结转下一年度', '转下年度')}",
}

# 二: rows are looked up in print order; 「规范性文件」 also matches 「行政规范性文件」.
TABLE2_LABELS: dict[str, str] = {
    "regulations": _loose("规章"),
    "normative_documents": rf"(?:行\s*政\s*)?{_loose('规范性文件')}",
    "licensing": _loose("行政许可"),
    "other_services": _alt("其他对外管理服务事项", "对外管理服务"),
    "punishment": _loose("行政处罚"),
    "coercion": _loose("行政强制"),
    "fees": _alt("行政事业性收费", "事业性收费"),
    "procurement": _alt("政府集中采购", "集中采购"),
}


@dataclass(frozen=True)
class Anchor:
    row: int  # index into the row list searched
    key: str
    start: int
    end: int


# the rest of a label after the words a pattern knows: 「属于三类内部事务」+「信息」, 「部分公开」+「（区分处理的…）」
_LABEL_REST_RE = re.compile(r"[\u4e00-\u9fff“”\"()（）、，,：:；;]*")


def find_anchors(text: str, keys: list[str], patterns: dict[str, str], start: int, end: int) -> list[Anchor]:
    """Find each row label in order; a label not found leaves the search position where it was. An anchor
    runs to the end of its label's words (never into the next label), so only spaces or separators stand
    between a label and its numbers."""
    found: list[Anchor] = []
    pos = start
    compiled = {k: re.compile(patterns[k]) for k in keys}
    for idx, key in enumerate(keys):
        m = compiled[key].search(text, pos, end)
        if m is None:
            continue
        found.append(Anchor(idx, key, m.start(), m.end()))
        pos = m.end()
    anchors: list[Anchor] = []
    for i, a in enumerate(found):
        limit = found[i + 1].start if i + 1 < len(found) else end
        rest = _LABEL_REST_RE.match(text, a.end, max(a.end, limit))
        anchors.append(Anchor(a.row, a.key, a.start, rest.end() if rest else a.end))
    return anchors
