"""``--engine baseline``: the naive LLM extractor the evals compare against.

One instructor call over the whole report straight into the full ``Report`` model: no sections, no
compact answer format, no grounding, no repair. It is what a user would write in an afternoon, and
the eval shows by how much the real engines beat it. Grounding and the checker still run after it in
the pipeline (they run after every engine), so its mistakes are scored and flagged like any other.
"""

from __future__ import annotations

import time
from typing import Any

from extractor.backends.client import shared_llm
from extractor.engines.base import ReaderOutput
from extractor.engines.llm_engine import LLMFactory, guess_template
from extractor.errors import LLMError
from extractor.findings import Finding
from extractor.normalize import NormalizedText
from extractor.prompting import prompt_version, render
from extractor.schema import Report, iter_cells
from extractor.sections import DocumentLayout
from extractor.template_spec import ACTIVE_ROWS, APPLICANT_COLUMNS, application_row_keys

MAX_TOKENS = 3000


def baseline_prompt(text: str) -> str:
    def rows(template: str) -> str:
        return "; ".join(f"{key}{{{', '.join(f for f, _l, _k in cols)}}}" for key, _label, cols in ACTIVE_ROWS[template])

    apps = ", ".join(dict.fromkeys(application_row_keys(False) + application_row_keys(True)))
    return render(
        "baseline.md.j2", text=text, rows_2019=rows("2019"), rows_2021=rows("2021"),
        applications_rows=apps, columns=list(APPLICANT_COLUMNS),
    )


class BaselineEngine:
    name = "baseline"

    def __init__(self, llm_factory: LLMFactory | None = None) -> None:
        self._llm_factory = llm_factory or (lambda cfg: shared_llm(cfg))

    def read(self, source: NormalizedText, layout: DocumentLayout, config: Any) -> ReaderOutput:
        started = time.perf_counter()
        llm = self._llm_factory(config)
        findings: list[Finding] = []
        usage_meta: dict[str, Any] = {}
        try:
            try:
                report, usage = llm.ask(
                    "你是一个数据抽取助手，只输出 JSON。", baseline_prompt(source.text), Report,
                    max_tokens=MAX_TOKENS, temperature=0.0,
                )
                usage_meta = usage.model_dump()
            except LLMError as exc:
                if exc.retryable:
                    raise
                # The naive extractor has no fallback: an invalid answer is an empty report, said plainly.
                report = Report(agency=layout.agency, year=layout.year, template=guess_template(layout))
                findings.append(
                    Finding(
                        rule="X-LLM", authority="heuristic", severity="error", attribution="extraction", cells=[],
                        message=f"基线模型未能给出有效回答：{exc.message[:200]}",
                    )
                )
            model_id = llm.model_id
        finally:
            llm.close()
        elapsed = time.perf_counter() - started
        meta: dict[str, Any] = {
            "llm": {
                "model": model_id,
                "prompt_version": prompt_version(),
                "tokens_in": int(usage_meta.get("prompt_tokens", 0)),
                "tokens_out": int(usage_meta.get("completion_tokens", 0)),
                "calls": int(usage_meta.get("calls", 0)),
                "questions": 1,
                "retries": int(usage_meta.get("retries", 0)),
                "reasks": int(usage_meta.get("reasks", 0)),
                "repair_rounds": 0,
                "cache_hits": int(usage_meta.get("cache_hits", 0)),
            },
            "timings_s": {"llm_baseline": round(elapsed, 4)},
        }
        producers = {path: "llm" for path, _ in iter_cells(report)}
        return ReaderOutput(report=report, findings=findings, producers=producers, meta=meta)
