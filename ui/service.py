"""What the review UI does, without the UI: extract, edit a cell and re-check, confirm, reopen, export.

Everything here is plain Python over ``extractor`` so it is tested without a browser; the app's handlers
(``ui.review_app``, ``ui.cell_edit``, ``ui.queue_app``, ``ui.records_app``) call it and ``ui.app`` wires them
to Gradio components.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from extractor.config import RunConfig
from extractor.engine_catalog import REVIEW_ENGINES, EngineName, parse_engine
from extractor.errors import InputError, NianbaoError
from extractor.exports import write_records
from extractor.findings import Evidence, Finding
from extractor.ingest import SourceDocument, load_bytes, load_path, load_text
from extractor.result import ExtractionResult
from extractor.review_store import CONFIRMED_ON_SCREEN, BatchOrigin, CellEdit, RecordSummary, ReviewStore, StoredRecord
from extractor.schema import CellValue, Report, get_cell, iter_cells, set_cell
from extractor.template_spec import ACTIVE_ROWS
from extractor.time_budget import file_budget_s, run_within_budget, shared_pool
from ui.private_files import PrivateExports

UPLOAD_LIMIT_BYTES = 20 * 1024 * 1024
UI_ENGINES: tuple[EngineName, ...] = REVIEW_ENGINES
UPLOAD_SUFFIXES: tuple[str, ...] = (".txt", ".text", ".md", ".csv", ".tsv", ".html", ".htm", ".pdf", ".docx", ".doc")

Progress = Callable[[str, float], None]


class ExtractionCancelled(NianbaoError):
    """The reviewer pressed 取消 while the extraction ran."""


@dataclass
class ReviewSession:
    """One report under review: the machine's reading, the reviewer's current version and edits so far."""

    source_text: str
    source_sha256: str
    source_name: str | None
    source_format: str
    engine: str
    machine: dict[str, Any]  # the machine extraction, ExtractionResult.to_dict()
    report: Report
    findings: list[Finding]
    evidence: dict[str, Evidence]
    edits: list[CellEdit] = field(default_factory=list)
    base_version: int = 0  # the stored record's version this review started from (0: no record yet)
    record_id: int | None = None
    status: str = "ok"
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    origin: BatchOrigin | None = None  # the batch line this report was opened from (the review queue)

    @property
    def report_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.attribution == "report"]

    @property
    def extraction_doubts(self) -> list[Finding]:
        return [f for f in self.findings if f.attribution == "extraction"]

    def cell_paths(self) -> list[str]:
        return [p for p, _ in iter_cells(self.report)]


def zh_error(exc: BaseException) -> str:
    """The Chinese one-liner the UI shows for an error."""
    if isinstance(exc, NianbaoError):
        return exc.hint_zh or exc.message
    return f"内部错误：{type(exc).__name__}: {exc}"


class ReviewService:
    def __init__(self, store: ReviewStore, default_engine: str = "template",
                 config_factory: Callable[[EngineName], RunConfig] | None = None,
                 time_budget_s: float | None | Literal["default"] = "default") -> None:
        """``time_budget_s``: seconds one upload may take to read and one extraction to run, each in a
        worker process killed when it is spent; "default": NIANBAO_FILE_TIMEOUT or the engine's
        default (extractor/time_budget.py); None: no budget, run in the calling thread."""
        self.store = store
        self.default_engine = default_engine if default_engine in UI_ENGINES else "template"
        self._config_factory = config_factory or (lambda engine: RunConfig(engine=engine))
        self._cancel: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.time_budget_s = time_budget_s
        # replaceable like BatchRunner.process (a module-level function: it runs in a worker process)
        self.extract_fn: Callable[..., ExtractionResult] | None = None
        self.exports = PrivateExports()

    # ---- cancellation: one token per browser session
    def cancel_token(self, key: str) -> threading.Event:
        with self._lock:
            token = threading.Event()
            self._cancel[key] = token
            return token

    def cancel(self, key: str) -> None:
        with self._lock:
            token = self._cancel.get(key)
        if token is not None:
            token.set()

    # ---- time budget
    def _budget(self, engine: str) -> float | None:
        if self.time_budget_s == "default":
            return file_budget_s(engine)
        return self.time_budget_s

    def _within_budget(self, engine: str, fn: Callable[..., Any], *args: Any, progress: Progress | None = None,
                       check: Callable[[], None] | None = None) -> Any:
        # one idle worker is kept between extractions: with an LLM engine it holds a model server
        return run_within_budget(fn, *args, budget_s=self._budget(engine), progress=progress, check=check,
                                 pool=shared_pool(keep=1))

    # ---- input
    def load_upload(self, path: str | Path) -> SourceDocument:
        p = Path(path)
        if not p.exists():
            raise InputError(f"no such file: {p}", hint_zh="上传的文件不存在")
        size = p.stat().st_size
        if size > UPLOAD_LIMIT_BYTES:
            raise InputError(f"{p.name} is {size // (1024 * 1024)} MB; the upload limit is 20 MB",
                             hint_zh=f"文件过大（{size / 1024 / 1024:.1f} MB），上传上限为 20 MB")
        return self._within_budget("template", load_path, p)  # a PDF's layout is the slow part

    def load_file_bytes(self, data: bytes, name: str) -> SourceDocument:
        """A file's bytes read as the batch read them (a report opened from the review queue), within the
        time budget like an upload."""
        return self._within_budget("template", load_bytes, data, name)

    def load_input(self, text: str | None, upload: str | Path | None) -> SourceDocument:
        """The uploaded file when there is one, else the pasted text."""
        if upload:
            return self.load_upload(upload)
        if text and text.strip():
            if len(text.encode("utf-8")) > UPLOAD_LIMIT_BYTES:
                raise InputError("pasted text exceeds 20 MB", hint_zh="粘贴的文本过大（上限 20 MB）")
            return load_text(text, "粘贴文本")
        raise InputError("nothing to extract", hint_zh="请粘贴报告全文或上传文件")

    # ---- extract
    def extract(self, doc: SourceDocument, engine: str | None = None, progress: Progress | None = None,
                cancel: threading.Event | None = None) -> ReviewSession:
        from extractor.pipeline import extract_document

        engine = parse_engine(engine or self.default_engine, UI_ENGINES)

        def check() -> None:
            if cancel is not None and cancel.is_set():
                raise ExtractionCancelled("extraction cancelled", hint_zh="已取消提取")

        def step(stage: str, fraction: float) -> None:
            check()
            if progress is not None:
                progress(stage, fraction)

        step("start", 0.0)
        # in a worker process within the time budget; a cancel kills it at once (check runs while waiting)
        result = self._within_budget(engine, self.extract_fn or extract_document, doc, self._config_factory(engine),
                                     progress=step, check=check)
        step("done", 1.0)
        return self._session_from_result(result, engine)

    def _session_from_result(self, result: ExtractionResult, engine: str) -> ReviewSession:
        existing = self.store.find_by_sha256(result.source_sha256) if result.source_sha256 else None
        return ReviewSession(
            source_text=result.source_text, source_sha256=result.source_sha256, source_name=result.source_name,
            source_format=result.source_format, engine=engine, machine=result.to_dict(),
            report=result.report, findings=list(result.findings), evidence=dict(result.evidence),
            base_version=existing.version if existing else 0, record_id=existing.id if existing else None,
            status=result.status, error=result.error, warnings=list(result.meta.get("warnings") or []),
        )

    # ---- edit
    def edit_cell(self, session: ReviewSession, path: str, raw_value: str | None, who: str | None = None) -> ReviewSession:
        """Set one cell to the reviewer's value and re-run grounding and the checker on the whole report.
        The reviewer's value is checked like any reader's: a value the source does not print is a finding."""
        from extractor.pipeline import recheck

        if path not in session.cell_paths():
            raise InputError(f"not a cell of this report: {path}", hint_zh=f"本报告没有单元格 {path}")
        after = parse_cell_value(session.report, path, raw_value)
        before = get_cell(session.report, path)
        if after == before:
            return session
        report = session.report.model_copy(deep=True)
        set_cell(report, path, after)
        findings, evidence = recheck(report, session.source_text)
        edit = CellEdit(path=path, before=before, after=after, who=(who or "").strip() or None)
        return replace(session, report=report, findings=list(findings), evidence=dict(evidence),
                       edits=[*session.edits, edit])

    # ---- confirm / reopen
    def confirm(self, session: ReviewSession, reviewer: str | None,
                via: str = CONFIRMED_ON_SCREEN) -> tuple[ReviewSession, StoredRecord]:
        name = (reviewer or "").strip()
        if not name:
            raise InputError("a reviewer name is required", hint_zh="请先填写审核人姓名，再点「确认」")
        if session.status != "ok":
            raise InputError("only an extracted report can be confirmed", hint_zh="没有可确认的报告")
        record = self.store.confirm(
            source_text=session.source_text, source_sha256=session.source_sha256, report=session.report,
            findings=[f.model_dump(mode="json") for f in session.findings],
            evidence={k: v.model_dump(mode="json", exclude_none=True) for k, v in session.evidence.items()},
            machine=session.machine, edits=session.edits, reviewer=name, expected_version=session.base_version,
            source_name=session.source_name, source_format=session.source_format, engine=session.engine,
            origin=session.origin, via=via,
        )
        # the edits are saved with this version; further edits start a new list against the new version
        return replace(session, edits=[], base_version=record.version, record_id=record.id), record

    def reopen(self, record_id: int) -> ReviewSession:
        from extractor.pipeline import recheck

        rec = self.store.get(int(record_id))
        report = rec.report
        findings, evidence = recheck(report, rec.source_text)
        return ReviewSession(
            source_text=rec.source_text, source_sha256=rec.source_sha256, source_name=rec.source_name,
            source_format=rec.source_format or "text", engine=rec.engine or "template", machine=rec.machine,
            report=report, findings=list(findings), evidence=dict(evidence), base_version=rec.version,
            record_id=rec.id,
        )

    def list_records(self) -> list[RecordSummary]:
        return self.store.list_records()

    def export(self, fmt: str, ids: list[int] | None = None, directory: str | Path | None = None) -> Path:
        """Write an export file (``fmt``: one of ``extractor.exports.RECORD_FORMATS``) and return its path
        (gold files come zipped: NAME.json + NAME.txt pairs)."""
        if directory is not None:
            out_dir = Path(directory)
            out_dir.mkdir(parents=True, exist_ok=True)
            return write_records(self.store, fmt, out_dir, ids)
        # for download: a private folder (0700, files 0600) that is removed after an hour or at exit
        out_dir = self.exports.new_dir()
        path = write_records(self.store, fmt, out_dir, ids)
        self.exports.seal(out_dir)
        return path


# ---- parsing a reviewer's value
_INT_RE = re.compile(r"^[+-]?\d+$")
_DEC_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")


def cell_kind(report: Report, path: str) -> str:
    """"int", "signed", "decimal" or "unit" (template_spec's kinds)."""
    section, _, rest = path.partition(".")
    if section != "active_disclosure":
        return "int"
    row_key, _, field_key = rest.partition(".")
    template = report.template or ("2019" if type(report.active_disclosure).__name__.endswith("2019") else "2021")
    for rkey, _label, fields in ACTIVE_ROWS[template]:
        if rkey == row_key:
            for fkey, _flabel, kind in fields:
                if fkey == field_key:
                    return kind
    return "int"


def parse_cell_value(report: Report, path: str, raw: str | None) -> CellValue:
    """The reviewer's text as a cell value: empty → blank (None); full-width digits and thousands
    separators are accepted. Raises InputError with a Chinese hint for anything else."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if text == "":
        return None
    kind = cell_kind(report, path)
    if kind == "unit":
        return text
    compact = text.replace(",", "").replace(" ", "").replace("−", "-")
    if kind == "decimal":
        if not _DEC_RE.match(compact):
            raise InputError(f"{text!r} is not a decimal number", hint_zh=f"「{text}」不是数字（此格应填金额，如 12.5）")
        sign = "-" if compact.startswith("-") else ""
        return sign + compact.lstrip("+-")
    if not _INT_RE.match(compact):
        raise InputError(f"{text!r} is not an integer", hint_zh=f"「{text}」不是整数（留空表示空白单元格）")
    return int(compact)
