"""``--engine llm``: the LLM reads every section; grounding and the checker then judge it.

Each table section (二, 三, 四) is asked on its own, with only that section's text, its row names and
the answer's shape in a few words; the JSON schema itself is left to the grammar that constrains
decoding, so the model never reads it. The header (agency, year) is asked only when the layout could
not find it. After the first pass the checker-driven repair loop re-asks the rows whose numbers the
source does not support. Every prompt token and every answer token costs time on a CPU, so the
usage of each kind of call is kept per report (``meta["llm"]["by_section"]``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from extractor.backends.client import StructuredLLM, Usage, shared_llm
from extractor.config import RunConfig
from extractor.engines.base import ReaderOutput
from extractor.errors import LLMError
from extractor.findings import Finding
from extractor.llm_sections import (
    SectionSpec,
    answer_cells,
    answer_from_report,
    build_report,
    detect_single_other_row,
    format_answer,
    header_spec,
    named_answer,
    table_specs,
)
from extractor.normalize import NormalizedText, normalize
from extractor.prompting import example_for, prompt_version, render
from extractor.repair import repair_loop
from extractor.schema import CellValue
from extractor.sections import DocumentLayout, analyze_layout
from extractor.verify import verify
from extractor.template_spec import APPLICANT_COLUMNS, REVIEW_COLUMNS

LLMFactory = Callable[[RunConfig], StructuredLLM]

# Answer budgets per section (tokens). The client doubles a budget once when an answer is cut off.
MAX_TOKENS: dict[str, int] = {"header": 160, "section2": 400, "section3": 1400, "section4": 300}
# Kinds of call a report's usage is broken down by (``meta["llm"]["by_section"]``).
USAGE_KINDS: tuple[str, ...] = ("header", "section2", "section3", "section4", "repair")
# Rows of table 三 per call; 0 asks the whole table at once. Smaller chunks help a struggling model
# at the cost of re-reading the section text (cheap with llama.cpp's prompt-prefix cache).
SECTION3_CHUNK_ROWS = 0
# The header question sees the title and first lines, the statistics-period sentence and the signature.
HEADER_HEAD_CHARS = 300
HEADER_TAIL_CHARS = 100


def guess_template(layout: DocumentLayout) -> Literal["2019", "2021"]:
    if layout.template in ("2019", "2021"):
        return layout.template
    return "2019" if layout.year is not None and layout.year <= 2020 else "2021"


# Rows of the table-三 example shown in prompts (an excerpt keeps the prompt short).
EXAMPLE_ROWS_3 = (
    "new_received", "carried_over", "granted", "denied_third_party_rights", "denied_process_info",
    "unable_not_held", "not_processed_duplicate", "other_other", "total", "carried_forward",
)


def _excerpt(section_text: str, row_labels: list[str]) -> str:
    """The table header lines of a one-row-per-line example section plus the lines of the given rows."""
    lines = section_text.splitlines()
    first_row = next((i for i, line in enumerate(lines) if "本年新收" in line), 0)
    kept = lines[:first_row] + [line for line in lines[first_row:] if any(label in line for label in row_labels)]
    return "\n".join(kept + ["……（其余各行从略）"])


# A partial ask of 三 (a repair, a hybrid question) shows only the lines of its rows, with this many
# lines around each, when every row is found on some line and that cuts the text at least in half.
EXCERPT_CONTEXT_LINES = 1


def row_excerpt(section_text: str, names: list[str], context: int = EXCERPT_CONTEXT_LINES) -> str | None:
    """The lines of ``section_text`` that print any of ``names`` (plus ``context`` lines around each),
    gaps marked 「……」; None where a name is on no line or the excerpt would not save much."""
    lines = section_text.splitlines()
    flat = [_compact(line) for line in lines]
    keep: set[int] = set()
    for name in names:
        hits = [i for i, line in enumerate(flat) if name in line]
        if not hits:
            return None
        for i in hits:
            keep.update(range(max(0, i - context), min(len(lines), i + context + 1)))
    out: list[str] = []
    last = -1
    for i in sorted(keep):
        if i > last + 1:
            out.append("……")
        out.append(lines[i])
        last = i
    if last < len(lines) - 1:
        out.append("……")
    excerpt = "\n".join(out)
    return excerpt if len(excerpt) * 2 <= len(section_text) else None


_TRAILING_NUMBERING = re.compile(r"[\s|]*[一二三四五六七八九十]\s*[、.．]\s*$")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


_EMPTY_CELLS = re.compile(r"(?:[ \t]*\|)+[ \t]*$")
_SPACE_RUN = re.compile(r"[ \t\u3000]{2,}")


def squeeze(text: str) -> str:
    """Section text as the model reads it: no blank lines, no indentation, no trailing empty ``|``
    cells, and runs of spaces cut to two (still a column gap, at a fraction of the tokens)."""
    lines = (_SPACE_RUN.sub("  ", _EMPTY_CELLS.sub("", line)).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


class LLMSectionAsker:
    """Asks one section spec at a time and keeps the usage, timings and call counts of a report.

    The model is created on the first question that needs it, so a report answered entirely from
    the cache (or a hybrid run that needs no LLM) never loads the model.
    """

    def __init__(
        self,
        config: RunConfig,
        source: NormalizedText,
        layout: DocumentLayout,
        *,
        llm_factory: LLMFactory | None = None,
        use_examples: bool = False,
    ) -> None:
        self.config = config
        self.source = source
        self.layout = layout
        self.use_examples = use_examples
        self._factory = llm_factory or (lambda cfg: shared_llm(cfg))
        self._llm: StructuredLLM | None = None
        self._model_id: str | None = None
        self.usage = Usage()
        self.usage_by_kind: dict[str, Usage] = {}
        self.seconds_by_kind: dict[str, float] = {}
        self.timings: dict[str, float] = {}
        self.questions = 0
        self.failures: list[Finding] = []
        self._lock = threading.Lock()
        self._system = render("system.md.j2")

    # -- the model

    @property
    def llm(self) -> StructuredLLM:
        if self._llm is None:
            self._llm = self._factory(self.config)
            self._model_id = self._llm.model_id
        return self._llm

    @property
    def model_id(self) -> str:
        return self._model_id or self.config.model

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    # -- texts

    def section_text(self, number: int) -> str:
        """The section's own text; where the layout missed it, the span of its neighbours, else everything."""
        text = self.layout.section_text(number)
        if text.strip():
            # the span runs up to the next heading, whose numbering 「三、」 would only confuse the model
            return squeeze(_TRAILING_NUMBERING.sub("", text))
        spans = self.layout.sections
        before = [spans[n] for n in spans if n < number and 2 <= n <= 4]
        after = [spans[n] for n in spans if n > number and n <= 4]
        start = before[-1][0] if before else 0
        end = after[0][1] if after else len(self.source.text)
        return squeeze(self.source.text[start:end])

    def header_text(self) -> str:
        text = self.source.text
        if len(text) <= HEADER_HEAD_CHARS + HEADER_TAIL_CHARS + 20:
            return text
        parts = [text[:HEADER_HEAD_CHARS]]
        m = re.search(r"[^。\n]*统计(?:期限|周期|时限|时间|区间)[^。\n]*", text)
        if m and m.start() >= HEADER_HEAD_CHARS:
            parts.append(m.group(0))
        parts.append(text[-HEADER_TAIL_CHARS:])
        return "\n……\n".join(squeeze(part) for part in parts)

    # -- prompts

    def prompt(self, spec: SectionSpec, feedback: str | None = None) -> str:
        if spec.name == "header":
            return render(spec.prompt, text=self.header_text(), feedback=feedback)
        full_spec_units = len(spec.fields)
        partial = feedback is not None or full_spec_units < _full_field_count(spec)
        text = self.section_text(spec.number)
        if partial and spec.name == "section3":
            # a few rows of a long table: their own lines carry what the model needs
            text = row_excerpt(text, [f.name for f in spec.fields]) or text
        context: dict[str, Any] = {
            "text": text,
            "fields": [
                {"key": f.key, "name": f.name, "label": f.label, "columns": list(f.columns), "array": f.array}
                for f in spec.fields
            ],
            # consecutive rows with the same columns, named once: 「规章、行政规范性文件：[…]」
            "groups": _column_groups(spec),
            "feedback": feedback,
            "partial": partial,
            "example": self._example(spec) if self.use_examples and feedback is None else None,
            "single_other_row": any(f.key == "other_processing" for f in spec.fields),
        }
        if spec.name == "section3":
            context["columns"] = list(APPLICANT_COLUMNS)
        elif spec.name == "section4":
            context["columns"] = [label for _, label in REVIEW_COLUMNS]
        return render(spec.prompt, **context)

    def _example(self, spec: SectionSpec) -> dict[str, str] | None:
        template = spec.template or guess_template(self.layout)
        example = example_for(template)
        if example is None:
            return None
        norm = normalize(example.text)
        layout = analyze_layout(norm)
        text = _TRAILING_NUMBERING.sub("", layout.section_text(spec.number)).strip()
        if not text:
            return None
        if spec.name == "section3":
            # The whole example table costs more tokens than the report's own; an excerpt of the rows
            # that teach something (non-zero cells, a glued row, the totals) does the job.
            rows = [f for f in spec.fields if f.key in EXAMPLE_ROWS_3]
            if rows:
                spec = spec.subset([f.unit for f in rows])
                text = _excerpt(text, [normalize(f.label.split(" ")[-1]).text for f in rows])
        return {"text": text, "answer": format_answer(named_answer(spec, answer_from_report(spec, example.report)))}

    # -- asking

    def ask(self, spec: SectionSpec, feedback: str | None = None) -> dict[str, CellValue]:
        """Ask one spec; return the cells it answered (all ``None`` with a finding when the model fails)."""
        if not spec.fields:
            return {}
        user = self.prompt(spec, feedback)
        started = time.perf_counter()
        kind = spec.name if feedback is None else "repair"
        stage = f"llm_{kind}"
        with self._lock:
            self.questions += 1
        try:
            answer, usage = self.llm.ask(
                self._system, user, spec.model(), max_tokens=_budget(spec), temperature=0.0
            )
        except LLMError as exc:
            if exc.retryable:  # the endpoint is down: the whole report should fail and be retried later
                raise
            failure = (
                Finding(
                    rule="X-LLM",
                    authority="heuristic",
                    severity="warning",
                    attribution="extraction",
                    cells=[],
                    message=f"模型未能给出“{_section_title(spec)}”的有效回答，相关单元格留空：{exc.message[:200]}",
                )
            )
            with self._lock:
                self.failures.append(failure)
            return dict.fromkeys(spec.paths)
        finally:
            with self._lock:
                elapsed = time.perf_counter() - started
                self.timings[stage] = self.timings.get(stage, 0.0) + elapsed
                self.seconds_by_kind[kind] = self.seconds_by_kind.get(kind, 0.0) + elapsed
        with self._lock:
            self.usage.add(usage)
            self.usage_by_kind.setdefault(kind, Usage()).add(usage)
        return answer_cells(spec, answer)

    def ask_header(self) -> tuple[str | None, int | None]:
        spec = header_spec()
        cells = self.ask(spec)
        agency = cells.get("agency")
        year = cells.get("year")
        agency_text = agency if isinstance(agency, str) and agency.strip() else None
        # Keep only an agency the report really prints: a 1.5B model likes to invent one.
        if agency_text is not None and _compact(agency_text) not in _compact(self.source.text):
            agency_text = None
        year_value = year if isinstance(year, int) and 2000 <= year <= 2100 else None
        return agency_text, year_value

    def meta(self, repair_rounds: int) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "prompt_version": prompt_version(),
            "tokens_in": self.usage.prompt_tokens,
            "tokens_out": self.usage.completion_tokens,
            "calls": self.usage.calls,
            "questions": self.questions,
            "retries": self.usage.retries,
            "reasks": self.usage.reasks,
            "repair_rounds": repair_rounds,
            "cache_hits": self.usage.cache_hits,
            # what each kind of call cost, so a prompt change shows its price beside its accuracy
            "by_section": {
                kind: {
                    "tokens_in": u.prompt_tokens, "tokens_out": u.completion_tokens, "calls": u.calls,
                    "cache_hits": u.cache_hits, "seconds": round(self.seconds_by_kind.get(kind, 0.0), 3),
                }
                for kind in USAGE_KINDS if (u := self.usage_by_kind.get(kind)) is not None
            },
        }


def _column_groups(spec: SectionSpec) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for f in spec.fields:
        last = groups[-1] if groups else None
        if last is not None and last["columns"] == list(f.columns) and last["array"] == f.array:
            last["names"].append(f.name)
        else:
            groups.append({"names": [f.name], "columns": list(f.columns), "array": f.array})
    return groups


def _full_field_count(spec: SectionSpec) -> int:
    from extractor.llm_sections import section2_spec, section3_spec, section4_spec

    if spec.name == "section2" and spec.template:
        return len(section2_spec(spec.template).fields)
    if spec.name == "section3":
        return len(section3_spec(any(f.key == "other_processing" for f in spec.fields)).fields)
    if spec.name == "section4":
        return len(section4_spec().fields)
    return len(spec.fields)


def _budget(spec: SectionSpec) -> int:
    full = MAX_TOKENS.get(spec.name, 600)
    if spec.name == "section3":
        # about 40 tokens per 7-cell row with its key, plus a margin
        return min(full, 120 + 48 * len(spec.fields))
    return full


def _section_title(spec: SectionSpec) -> str:
    return {"header": "机关与年度", "section2": "二、主动公开", "section3": "三、申请处理", "section4": "四、复议诉讼"}[spec.name]


def read_tables(asker: LLMSectionAsker, template: Literal["2019", "2021"], single_other_row: bool) -> tuple[list[SectionSpec], dict[str, CellValue]]:
    """Ask 二, 三 and 四 in full; 三 in chunks when ``SECTION3_CHUNK_ROWS`` says so."""
    specs = table_specs(template, single_other_row)
    parts = [part for spec in specs for part in (spec.chunks(SECTION3_CHUNK_ROWS) if spec.name == "section3" else [spec])]
    cells: dict[str, CellValue] = {}
    workers = max(1, int(getattr(asker.config, "concurrency", 1) or 1))
    if workers == 1 or len(parts) == 1:
        for part in parts:
            cells.update(asker.ask(part))
        return specs, cells
    # A remote endpoint serves several questions at once; the answers are merged in print order.
    _ = asker.llm  # create the client once, before the threads race for it
    with ThreadPoolExecutor(max_workers=min(workers, len(parts))) as pool:
        for answer in pool.map(asker.ask, parts):
            cells.update(answer)
    return specs, cells


class LLMEngine:
    name = "llm"

    def __init__(self, llm_factory: LLMFactory | None = None, *, use_examples: bool = False) -> None:
        self._llm_factory = llm_factory
        self._use_examples = use_examples

    def read(self, source: NormalizedText, layout: DocumentLayout, config: Any) -> ReaderOutput:
        started = time.perf_counter()
        asker = LLMSectionAsker(config, source, layout, llm_factory=self._llm_factory, use_examples=self._use_examples)
        try:
            template = guess_template(layout)
            single = detect_single_other_row(asker.section_text(3), template)
            agency, year = layout.agency, layout.year
            if agency is None or year is None:
                # the model reads the header only when the layout could not: it cannot beat a found name
                asked_agency, asked_year = asker.ask_header()
                agency, year = agency or asked_agency, year or asked_year
            specs, cells = read_tables(asker, template, single)
            report = build_report(template, single, cells, agency=agency, year=year)
            producers = dict.fromkeys(cells, "llm")
            rounds = 0
            if config.max_repair_rounds > 0:
                t = time.perf_counter()
                outcome = repair_loop(
                    report, source, layout, asker, specs,
                    max_rounds=config.max_repair_rounds, verify_fn=verify, producers=producers,
                )
                rounds = outcome.rounds
                asker.timings["repair_total"] = time.perf_counter() - t
        finally:
            asker.close()
        timings = {k: round(v, 4) for k, v in asker.timings.items()}
        timings["llm_read"] = round(time.perf_counter() - started, 4)
        meta: dict[str, Any] = {"llm": asker.meta(rounds), "timings_s": timings}
        return ReaderOutput(report=report, findings=list(asker.failures), producers=producers, meta=meta)

