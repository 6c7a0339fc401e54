"""The national templates as data: row and column keys with their Chinese labels.

Everything that needs to know "which rows does a 2019 report have" asks this module, so the reader,
checker, UI and exports agree on one list. Labels follow ../shared/spec/template.md §10.
"""

from __future__ import annotations

from typing import Final, Literal

TemplateVersion = Literal["2019", "2021"]

SECTION_TITLES: Final[dict[int, str]] = {
    1: "一、总体情况",
    2: "二、主动公开政府信息情况",
    3: "三、收到和处理政府信息公开申请情况",
    4: "四、政府信息公开行政复议、行政诉讼情况",
    5: "五、存在的主要问题及改进情况",
    6: "六、其他需要报告的事项",
}

# 三: the seven applicant columns, in template order.
APPLICANT_COLUMNS: Final[tuple[str, ...]] = (
    "自然人",
    "商业企业",
    "科研机构",
    "社会公益组织",
    "法律服务机构",
    "其他",
    "总计",
)
TOTAL_COL: Final[int] = 6

# 三: (key, printed label) in template order. The group labels （三）（四）（五） carry no numbers.
APPLICATION_ROWS_HEAD: Final[tuple[tuple[str, str], ...]] = (
    ("new_received", "一、本年新收政府信息公开申请数量"),
    ("carried_over", "二、上年结转政府信息公开申请数量"),
    ("granted", "（一）予以公开"),
    ("partially_granted", "（二）部分公开"),
    ("denied_state_secret", "（三）不予公开 1.属于国家秘密"),
    ("denied_law_prohibited", "2.其他法律行政法规禁止公开"),
    ("denied_three_safety_one_stability", "3.危及“三安全一稳定”"),
    ("denied_third_party_rights", "4.保护第三方合法权益"),
    ("denied_internal_affairs", "5.属于三类内部事务信息"),
    ("denied_process_info", "6.属于四类过程性信息"),
    ("denied_enforcement_case", "7.属于行政执法案卷"),
    ("denied_admin_query", "8.属于行政查询事项"),
    ("unable_not_held", "（四）无法提供 1.本机关不掌握相关政府信息"),
    ("unable_needs_creation", "2.没有现成信息需要另行制作"),
    ("unable_unclear_after_correction", "3.补正后申请内容仍不明确"),
    ("not_processed_complaint", "（五）不予处理 1.信访举报投诉类申请"),
    ("not_processed_duplicate", "2.重复申请"),
    ("not_processed_publication", "3.要求提供公开出版物"),
    ("not_processed_massive_repeat", "4.无正当理由大量反复申请"),
    ("not_processed_confirm_info", "5.要求行政机关确认或重新出具已获取信息"),
)
APPLICATION_ROWS_OTHER_2019: Final[tuple[tuple[str, str], ...]] = (
    ("other_processing", "（六）其他处理"),
)
APPLICATION_ROWS_OTHER_2021: Final[tuple[tuple[str, str], ...]] = (
    ("other_overdue_correction", "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_overdue_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_other", "3.其他"),
)
APPLICATION_ROWS_TAIL: Final[tuple[tuple[str, str], ...]] = (
    ("total", "（七）总计"),
    ("carried_forward", "四、结转下年度继续办理"),
)

ALL_APPLICATION_LABELS: Final[dict[str, str]] = dict(
    APPLICATION_ROWS_HEAD + APPLICATION_ROWS_OTHER_2019 + APPLICATION_ROWS_OTHER_2021 + APPLICATION_ROWS_TAIL
)

# Rows that are outcomes of 三、本年度办理结果 (summed into （七）总计 by R3.2), per layout of （六）.
OUTCOME_ROWS_COMMON: Final[tuple[str, ...]] = tuple(k for k, _ in APPLICATION_ROWS_HEAD[2:])
OTHER_ROWS_2019: Final[tuple[str, ...]] = tuple(k for k, _ in APPLICATION_ROWS_OTHER_2019)
OTHER_ROWS_2021: Final[tuple[str, ...]] = tuple(k for k, _ in APPLICATION_ROWS_OTHER_2021)


def application_row_keys(single_other_row: bool) -> tuple[str, ...]:
    """Row keys of table 三 in print order; ``single_other_row`` is the 2019-style （六） layout."""
    other = OTHER_ROWS_2019 if single_other_row else OTHER_ROWS_2021
    return (
        tuple(k for k, _ in APPLICATION_ROWS_HEAD)
        + other
        + tuple(k for k, _ in APPLICATION_ROWS_TAIL)
    )


# 四: groups and columns.
REVIEW_GROUPS: Final[tuple[tuple[str, str], ...]] = (
    ("review", "行政复议"),
    ("litigation_direct", "行政诉讼 未经复议直接起诉"),
    ("litigation_after_review", "行政诉讼 复议后起诉"),
)
REVIEW_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
)

# 二: (row key, row label, ((field key, column label, kind), ...)) per template.
# kind: "int" (integer >= 0), "signed" (signed integer), "decimal" (decimal string), "unit" (unit text).
FieldSpec = tuple[str, str, str]
RowSpec = tuple[str, str, tuple[FieldSpec, ...]]

ACTIVE_ROWS: Final[dict[str, tuple[RowSpec, ...]]] = {
    "2021": (
        ("regulations", "规章", (("issued", "本年制发件数", "int"), ("repealed", "本年废止件数", "int"), ("in_force", "现行有效件数", "int"))),
        ("normative_documents", "行政规范性文件", (("issued", "本年制发件数", "int"), ("repealed", "本年废止件数", "int"), ("in_force", "现行有效件数", "int"))),
        ("licensing", "行政许可", (("decisions", "本年处理决定数量", "int"),)),
        ("punishment", "行政处罚", (("decisions", "本年处理决定数量", "int"),)),
        ("coercion", "行政强制", (("decisions", "本年处理决定数量", "int"),)),
        ("fees", "行政事业性收费", (("amount_10k_yuan", "本年收费金额（单位：万元）", "decimal"),)),
    ),
    "2019": (
        ("regulations", "规章", (("made", "本年新制作数量", "int"), ("published", "本年新公开数量", "int"), ("total_published", "对外公开总数量", "int"))),
        ("normative_documents", "规范性文件", (("made", "本年新制作数量", "int"), ("published", "本年新公开数量", "int"), ("total_published", "对外公开总数量", "int"))),
        ("licensing", "行政许可", (("prev_items", "上一年项目数量", "int"), ("change", "本年增/减", "signed"), ("decisions", "处理决定数量", "int"))),
        ("other_services", "其他对外管理服务事项", (("prev_items", "上一年项目数量", "int"), ("change", "本年增/减", "signed"), ("decisions", "处理决定数量", "int"))),
        ("punishment", "行政处罚", (("prev_items", "上一年项目数量", "int"), ("change", "本年增/减", "signed"), ("decisions", "处理决定数量", "int"))),
        ("coercion", "行政强制", (("prev_items", "上一年项目数量", "int"), ("change", "本年增/减", "signed"), ("decisions", "处理决定数量", "int"))),
        ("fees", "行政事业性收费", (("prev_items", "上一年项目数量", "int"), ("change", "本年增/减", "signed"))),
        ("procurement", "政府集中采购", (("items", "采购项目数量", "int"), ("amount", "采购总金额", "decimal"), ("amount_unit", "单位", "unit"))),
    ),
}

# The 第二十条 items of section 二 (their caption rows) and the rows each one holds, per template.
ACTIVE_BLOCKS: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "2021": (
        ("第二十条第（一）项", ("regulations", "normative_documents")),
        ("第二十条第（五）项", ("licensing",)),
        ("第二十条第（六）项", ("punishment", "coercion")),
        ("第二十条第（八）项", ("fees",)),
    ),
    "2019": (
        ("第二十条第（一）项", ("regulations", "normative_documents")),
        ("第二十条第（五）项", ("licensing", "other_services")),
        ("第二十条第（六）项", ("punishment", "coercion")),
        ("第二十条第（八）项", ("fees",)),
        ("第二十条第（九）项", ("procurement",)),
    ),
}

# Markers that decide the template version (template.md §6), searched in normalized text.
MARKERS_2019: Final[tuple[str, ...]] = ("本年新制作数量", "上一年项目数量", "第二十条第(九)项", "政府集中采购", "其他对外管理服务事项", "本年新公开数量")
MARKERS_2021: Final[tuple[str, ...]] = ("本年制发件数", "现行有效件数", "本年处理决定数量", "本年收费金额", "缴纳费用")


def active_row_spec(template: str, row_key: str) -> RowSpec:
    for spec in ACTIVE_ROWS[template]:
        if spec[0] == row_key:
            return spec
    raise KeyError(f"{row_key} is not a section 二 row of template {template}")


def cell_label(path: str) -> str:
    """Chinese label of a canonical cell path, for messages: ``applications.total[6]`` → 「（七）总计 总计」."""
    section, _, rest = path.partition(".")
    if section == "applications":
        key, _, idx = rest.partition("[")
        col = APPLICANT_COLUMNS[int(idx.rstrip("]"))]
        label = ALL_APPLICATION_LABELS.get(key, key).split(" ")[-1]
        return f"{label}（{col}）"
    if section == "review_litigation":
        group, _, col = rest.partition(".")
        return f"{dict(REVIEW_GROUPS).get(group, group)}·{dict(REVIEW_COLUMNS).get(col, col)}"
    if section == "active_disclosure":
        row, _, field = rest.partition(".")
        for template in ("2021", "2019"):
            for rkey, rlabel, fields in ACTIVE_ROWS[template]:
                if rkey == row:
                    for fkey, flabel, _kind in fields:
                        if fkey == field:
                            return f"{rlabel}·{flabel}"
        return rest
    return path
