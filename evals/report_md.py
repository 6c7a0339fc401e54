"""Render an evaluation result (the ``--json`` object) as a readable Markdown report."""

from __future__ import annotations

from typing import Any

BASELINE = "baseline"
WORST_REPORTS = 5
WRONG_CELLS_SHOWN = 15

# (key, Chinese label first, kind) in the order the tables show them
METRICS: tuple[tuple[str, str, str], ...] = (
    ("reports", "报告数 reports", "int"),
    ("cell_accuracy", "单元格准确率 cell accuracy", "pct"),
    ("cell_accuracy_by_section.二", "　二 主动公开", "pct"),
    ("cell_accuracy_by_section.三", "　三 依申请公开", "pct"),
    ("cell_accuracy_by_section.四", "　四 复议诉讼", "pct"),
    ("nonzero_accuracy", "非零单元格准确率 non-zero accuracy", "pct"),
    ("false_nonzero", "误报非零 false non-zero cells", "int"),
    ("reports_exact", "完全正确 reports exact", "int"),
    ("reports_failed", "失败 reports failed", "int"),
    ("agency_accuracy", "机关名称 agency (exact)", "pct"),
    ("agency_alias_accuracy", "机关名称 agency (alias)", "pct"),
    ("year_accuracy", "年度 year", "pct"),
    ("template_accuracy", "模板 template", "pct"),
    ("flag_recall", "错误被标记率 flag recall", "pct"),
    ("flag_precision", "标记准确率 flag precision", "pct"),
    ("flag_recall_with_equations", "含等式标记率 flag recall, equations' operands too", "pct"),
    ("flag_precision_with_equations", "含等式标记准确率 flag precision, equations' operands too", "pct"),
    ("attribution_accuracy", "归因准确率 attribution accuracy", "pct"),
    ("mutation_detection", "变异检出率 mutation detection", "pct"),
    ("hallucination_detection", "幻觉检出率 hallucination detection", "pct"),
    ("seconds_per_report", "秒/份 seconds per report", "sec"),
    ("tokens_in_per_report", "输入 tokens/份", "num"),
    ("tokens_out_per_report", "输出 tokens/份", "num"),
    ("retries", "重试 retries", "num"),
    ("llm_calls_per_report", "模型调用/份 LLM calls per report", "num"),
    ("cache_hits", "缓存命中 answers from the LLM cache", "num"),
)

# metrics where more is worse, for the "vs baseline" column
LOWER_IS_BETTER: frozenset[str] = frozenset({"false_nonzero", "reports_failed", "seconds_per_report", "tokens_in_per_report", "tokens_out_per_report", "retries"})


def _get(obj: dict[str, Any], dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def fmt(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "sec":
        return f"{value:.2f}"
    if kind == "num":
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def _delta(value: Any, base: Any, kind: str) -> str:
    if value is None or base is None:
        return "—"
    diff = value - base
    if kind == "pct":
        return f"{100 * diff:+.1f} pt"
    if kind == "sec":
        return f"{diff:+.2f}"
    return f"{diff:+g}"


def _cell(value: Any) -> str:
    return "空" if value is None else str(value).replace("|", "\\|")


def engine_table(name: str, metrics: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", "", "| 指标 metric | 值 value |", "|---|---|"]
    for key, label, kind in METRICS:
        lines.append(f"| {label} | {fmt(_get(metrics, key), kind)} |")
    counts = metrics.get("counts") or {}
    if counts:
        lines += ["", (
            f"cells {counts.get('cells_correct')}/{counts.get('cells')}, non-zero {counts.get('nonzero_correct')}/"
            f"{counts.get('nonzero_cells')}, flagged wrong {counts.get('flagged_wrong')} of {counts.get('wrong_cells_checked')} "
            f"wrong and {counts.get('flagged')} flagged, attribution {counts.get('attribution_correct')}/"
            f"{counts.get('attribution_checked')}."
        )]
    for failed in metrics.get("failed_samples") or []:
        lines.append(f"- 失败 failed: `{failed['sample']}` ({failed['status']}): {failed.get('error') or ''}")
    return lines + [""]


def comparison_table(engines: dict[str, dict[str, Any]]) -> list[str]:
    names = list(engines)
    has_base = BASELINE in engines and len(names) > 1
    others = [n for n in names if n != BASELINE] if has_base else []
    header = "| 指标 metric | " + " | ".join(names) + " |"
    if has_base:
        header += "".join(f" {n} vs baseline |" for n in others)
    lines = ["## 引擎对比 Engines side by side", "", header, "|---" * (1 + len(names) + len(others)) + "|"]
    for key, label, kind in METRICS:
        row = f"| {label} | " + " | ".join(fmt(_get(engines[n], key), kind) for n in names) + " |"
        if has_base:
            base = _get(engines[BASELINE], key)
            row += "".join(f" {_delta(_get(engines[n], key), base, kind)} |" for n in others)
        lines.append(row)
    if has_base:
        lines += ["", "「vs baseline」: the engine's figure minus the naive baseline's (pt = percentage points; "
                  "for " + ", ".join(sorted(LOWER_IS_BETTER)) + " lower is better)."]
    return lines + [""]


def worst_reports(per_report: list[dict[str, Any]], limit: int = WORST_REPORTS) -> list[str]:
    ranked = sorted(per_report, key=lambda r: (r.get("cell_accuracy") if r.get("cell_accuracy") is not None else -1.0, r["engine"], r["sample"]))
    ranked = [r for r in ranked if r.get("status") != "ok" or r.get("wrong_cells")][:limit]
    lines = ["## 错误最多的报告 Worst reports", ""]
    if not ranked:
        return lines + ["Every report was read exactly.", ""]
    for r in ranked:
        lines.append(f"### {r['engine']} · {r['sample']} — {fmt(r.get('cell_accuracy'), 'pct')}")
        lines.append("")
        if r.get("status") != "ok":
            lines += [f"失败 failed ({r.get('status')}): {r.get('error') or ''}", ""]
            continue
        wrong = r.get("wrong_cells") or []
        lines += ["| 单元格 cell | path | 金标 gold | 提取 pred | 已标记 flagged |", "|---|---|---|---|---|"]
        for c in wrong[:WRONG_CELLS_SHOWN]:
            lines.append(f"| {c.get('label') or c['path']} | `{c['path']}` | {_cell(c['gold'])} | {_cell(c['pred'])} | {'✓' if c['flagged'] else '✗'} |")
        if len(wrong) > WRONG_CELLS_SHOWN:
            lines.append(f"| … {len(wrong) - WRONG_CELLS_SHOWN} more | | | | |")
        lines.append("")
    return lines


# Kinds of LLM call an engine reports usage for (``meta["llm"]["by_section"]``), in asking order.
CALL_KINDS: tuple[tuple[str, str], ...] = (
    ("header", "表头 header"),
    ("section2", "二 section2"),
    ("section3", "三 section3"),
    ("section4", "四 section4"),
    ("repair", "修复 repair"),
)


def _tokens(value: Any) -> str:
    return "—" if value is None else f"{value:,.0f}"


def usage_table(engines: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-call usage table: prompt / answer tokens, calls and seconds per
    report for each kind of call, per engine that reported any; empty rows when none did."""
    names = [n for n, m in engines.items() if m.get("tokens_by_section")]
    header = ["调用 call"] + [f"{n} {col}" for n in names for col in ("输入 in", "输出 out", "次数 calls", "秒 s")]
    rows: list[list[str]] = []
    for kind, label in CALL_KINDS:
        figures = [(engines[n].get("tokens_by_section") or {}).get(kind) for n in names]
        if not any(figures):
            continue
        row = [label]
        for f in figures:
            f = f or {}
            row += [_tokens(f.get("tokens_in")), _tokens(f.get("tokens_out")), fmt(f.get("calls"), "num"),
                    fmt(f.get("seconds"), "sec")]
        rows.append(row)
    if rows:
        total = ["合计 per report"]
        for n in names:
            m = engines[n]
            total += [_tokens(m.get("tokens_in_per_report")), _tokens(m.get("tokens_out_per_report")),
                      fmt(m.get("llm_calls_per_report"), "num"), fmt(m.get("seconds_per_report"), "sec")]
        rows.append(total)
    return header, rows


def usage_section(result: dict[str, Any]) -> list[str]:
    """Prompt and answer tokens per report, by kind of call and report by report: a prompt change
    shows its cost here beside its accuracy above."""
    engines: dict[str, dict[str, Any]] = result.get("engines") or {}
    header, rows = usage_table(engines)
    if not rows:
        return []
    lines = ["## 模型用量 Model usage", "",
             "Per report, by kind of call (answers replayed from the LLM cache count 0 tokens):", "",
             "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    kinds = [k for k, _ in CALL_KINDS]
    for name in [n for n, m in engines.items() if m.get("tokens_by_section")]:
        reports = [r for r in result.get("per_report") or [] if r["engine"] == name]
        lines += [f"### {name}: tokens per report (in/out)", "",
                  "| 报告 report | 输入 in | 输出 out | 调用 calls | 缓存 cached | 秒 s | "
                  + " | ".join(label for _, label in CALL_KINDS) + " |",
                  "|---" * (6 + len(kinds)) + "|"]
        for r in reports:
            by = r.get("tokens_by_section") or {}
            cells = [f"{_tokens(by[k].get('tokens_in'))}/{_tokens(by[k].get('tokens_out'))}" if k in by else "—" for k in kinds]
            lines.append(f"| {r['sample']} | {_tokens(r.get('tokens_in'))} | {_tokens(r.get('tokens_out'))} | "
                         f"{fmt(r.get('llm_calls'), 'num')} | {fmt(r.get('cache_hits'), 'num')} | "
                         f"{fmt(r.get('seconds'), 'sec')} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def mutation_section(checker: dict[str, Any]) -> list[str]:
    if not checker or not checker.get("mutations"):
        return []
    lines = [
        "## 核查器变异测试 Checker mutation test", "",
        f"{checker['mutations']} mutations read by the `{checker.get('mutation_engine')}` engine; "
        f"{checker.get('arithmetic_checkable')} fall in sections 三/四 where an arithmetic rule can see them.", "",
        f"- 文本变异检出 text mutation blamed on the report: {checker.get('detected')}/{checker.get('arithmetic_checkable')} "
        f"({fmt(checker.get('detection_rate'), 'pct')}); planted number read back: {checker.get('read_as_mutated')}/{checker['mutations']}",
        f"- 幻觉检出 hallucination flagged by grounding: {checker.get('hallucination_flagged')}/{checker['mutations']} "
        f"({fmt(checker.get('hallucination_rate'), 'pct')})", "",
        "| kind | mutations | checkable | detected | hallucination flagged |", "|---|---|---|---|---|",
    ]
    for kind, k in sorted((checker.get("by_kind") or {}).items()):
        lines.append(f"| {kind} | {k['mutations']} | {k['checkable']} | {k['detected']} | {k['hallucination_flagged']} |")
    missed = [o for o in checker.get("outcomes") or [] if o["arithmetic_checkable"] and not o["detected"]]
    if missed:
        lines += ["", "Missed text mutations:", ""]
        for o in missed[:20]:
            lines.append(f"- `{o['sample']}` {o['kind']} `{o['path']}` {o['old']}→{o['new']}"
                         f" (read back: {o['read_as_mutated']}){' — ' + o['error'] if o.get('error') else ''}")
    return lines + [""]


def render_markdown(result: dict[str, Any]) -> str:
    engines: dict[str, dict[str, Any]] = result.get("engines") or {}
    lines = ["# nianbao 评测报告 evaluation", ""]
    lines.append(f"{len(result.get('samples') or [])} samples; engines: {', '.join(engines) or 'none'}"
                 + (f"; model `{result['options']['model']}`" if (result.get("options") or {}).get("model") else "") + ".")
    lines.append("")
    if result.get("interrupted"):
        lines += ["**已中断 interrupted**: the figures cover only the reports read before the run was stopped.", ""]
    for problem in result.get("load_problems") or []:
        lines.append(f"- skipped `{problem['path']}`: {problem['reason']}")
    if result.get("load_problems"):
        lines.append("")
    cached = [name for name, m in engines.items() if m.get("cache_hits")]
    if cached:
        lines += [f"Answers replayed from the LLM cache ({', '.join(cached)}) take no model time: those engines' "
                  "秒/份 understate a cold run.", ""]
    if len(engines) > 1:
        lines += comparison_table(engines)
    lines += ["## 各引擎 Per engine", ""]
    for name, metrics in engines.items():
        lines += engine_table(name, metrics)
    lines += usage_section(result)
    lines += mutation_section(result.get("checker") or {})
    lines += worst_reports(result.get("per_report") or [])
    return "\n".join(lines).rstrip() + "\n"
