"""The review queue over a batch: what an office does with a year's reports once ``nianbao batch`` has read them.

A batch folder's results.jsonl (its last line per path, duplicates folded, as the batch exports read it)
becomes a list of reports sorted so the ones needing a person come first. Opening one gives the same
``ReviewSession`` as a pasted report, tied to its batch line (``BatchOrigin``: path + sha256 of the file's
bytes), so every confirmation says which line it came from and a re-run batch finds it again
(``ReviewStore.confirmed_work``). Reports without doubt can be confirmed in bulk; the confirmed reports
export as the batch's own files with who confirmed them, when, and how many cells changed.

Plain Python over ``ReviewService``; ``ui.queue_app`` wires it to the browser.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from extractor.batch.confirmed import CONFIRMED_FORMATS, Confirmation, confirmed_lines, export_file, write_confirmed
from extractor.batch.results_log import RESULTS_NAME, STATUS_NOT_A_REPORT, STATUS_OK, Record, read_results
from extractor.errors import InputError, NianbaoError
from extractor.exports import build_tables
from extractor.findings import Evidence, Finding, doubted_cells_of_json
from extractor.ingest import SourceDocument
from extractor.ingest.limits import current_limits
from extractor.ingest.regular_file import read_regular
from extractor.review_store import CONFIRMED_IN_BULK, CONFIRMED_ON_SCREEN, BatchOrigin, ConfirmedWork, StoredRecord
from extractor.schema import report_from_record
from ui.service import ReviewService, ReviewSession, zh_error

# Queue states in the order the list shows them: a person's work first, finished work last.
STATE_DOUBT = "doubt"  # 提取存疑: a cell we could not prove; a person must look
STATE_REPORT_ERRORS = "report_errors"  # 报告自身错误: the agency's numbers disagree; worth a person's look
STATE_CLEAN = "clean"  # nothing to doubt: may be confirmed in bulk
STATE_UNREADABLE = "unreadable"  # not read (failed / not a report): nothing to review here
STATE_CONFIRMED = "confirmed"
STATE_ORDER: tuple[str, ...] = (STATE_DOUBT, STATE_REPORT_ERRORS, STATE_CLEAN, STATE_UNREADABLE, STATE_CONFIRMED)
STATE_ZH: dict[str, str] = {
    STATE_DOUBT: "提取存疑",
    STATE_REPORT_ERRORS: "报告自身错误",
    STATE_CLEAN: "无疑问",
    STATE_UNREADABLE: "无法审核",
    STATE_CONFIRMED: "已确认",
}
VIA_ZH: dict[str, str] = {CONFIRMED_ON_SCREEN: "逐份审核", CONFIRMED_IN_BULK: "批量确认"}


@dataclass(frozen=True)
class QueueItem:
    """One report of the batch (its deciding line) and the confirmed work that holds it, if any."""

    line: Record
    duplicate_paths: tuple[str, ...] = ()
    confirmed: ConfirmedWork | None = None
    n_doubted_cells: int = 0  # cells grounding doubts or an extraction finding names (findings.doubted_cells)

    @property
    def key(self) -> str:
        return str(self.line.get("source_path"))

    @property
    def name(self) -> str:
        return Path(self.key).name

    @property
    def agency(self) -> str | None:
        return self.line.get("agency")

    @property
    def year(self) -> int | None:
        return self.line.get("year")

    @property
    def template(self) -> str | None:
        return self.line.get("template")

    @property
    def status(self) -> str:
        return str(self.line.get("status"))

    @property
    def file_sha256(self) -> str:
        return str(self.line.get("source_sha256") or "")

    @property
    def text_sha256(self) -> str | None:
        return (self.line.get("meta") or {}).get("source_sha256")

    def _count(self, name: str) -> int:
        return int((self.line.get("counts") or {}).get(name, 0))

    @property
    def n_report_errors(self) -> int:
        return self._count("report_errors")

    @property
    def n_extraction_doubts(self) -> int:
        return self._count("extraction_doubts")

    @property
    def reviewable(self) -> bool:
        return self.status == STATUS_OK

    @property
    def state(self) -> str:
        if not self.reviewable:
            return STATE_UNREADABLE
        if self.confirmed is not None:
            return STATE_CONFIRMED
        if self.n_extraction_doubts or self.n_doubted_cells:
            return STATE_DOUBT
        if self.n_report_errors:
            return STATE_REPORT_ERRORS
        return STATE_CLEAN

    @property
    def error(self) -> str | None:
        return self.line.get("error")

    def sort_key(self) -> tuple[Any, ...]:
        return (STATE_ORDER.index(self.state), -self.n_extraction_doubts, -self.n_doubted_cells,
                -self.n_report_errors, self.key)

    def origin(self) -> BatchOrigin:
        return BatchOrigin(source_path=self.key, file_sha256=self.file_sha256)


@dataclass(frozen=True)
class QueueProgress:
    total: int  # reports in the batch (one per distinct content; duplicates folded)
    reviewable: int  # read, so they can be reviewed
    confirmed: int
    reviewed: int  # confirmed by a person on the review screen (the rest in bulk)
    remaining: int  # reviewable, not yet confirmed
    needing_person: int  # remaining with doubts or the agency's own errors
    clean: int  # remaining without doubt: what bulk confirmation would take
    unreadable: int


@dataclass(frozen=True)
class BatchQueue:
    directory: Path
    lines: list[Record]  # every line of results.jsonl, for the export
    items: list[QueueItem]  # sorted: a person's work first

    def item(self, key: str) -> QueueItem:
        for it in self.items:
            if it.key == key:
                return it
        raise InputError(f"{key} is not a report of this batch", hint_zh=f"批次中没有这份报告：{key}")

    def position(self, key: str) -> int:
        return next((i for i, it in enumerate(self.items) if it.key == key), -1)

    @property
    def progress(self) -> QueueProgress:
        reviewable = [it for it in self.items if it.reviewable]
        confirmed = [it for it in reviewable if it.confirmed is not None]
        remaining = [it for it in reviewable if it.confirmed is None]
        return QueueProgress(
            total=len(self.items), reviewable=len(reviewable), confirmed=len(confirmed),
            reviewed=sum(1 for it in confirmed if it.confirmed and it.confirmed.via == CONFIRMED_ON_SCREEN),
            remaining=len(remaining),
            needing_person=sum(1 for it in remaining if it.state in (STATE_DOUBT, STATE_REPORT_ERRORS)),
            clean=sum(1 for it in remaining if it.state == STATE_CLEAN),
            unreadable=len(self.items) - len(reviewable),
        )

    def clean_keys(self) -> list[str]:
        return [it.key for it in self.items if it.state == STATE_CLEAN]

    def next_to_review(self, after: str | None = None) -> QueueItem | None:
        """The first unconfirmed report in queue order other than ``after`` (the one just done)."""
        return next((it for it in self.items
                     if it.reviewable and it.confirmed is None and it.key != after), None)


@dataclass
class BulkOutcome:
    confirmed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why, in Chinese)


@dataclass(frozen=True)
class _ParsedBatch:
    stamp: tuple[int, int]  # results.jsonl (mtime_ns, size) when parsed
    lines: list[Record]
    reports: list[Record]  # build_tables' primaries with _duplicate_paths
    doubted: dict[str, int]  # path -> number of doubted cells (counted once per parse: it is not cheap)


class QueueService:
    """The queue's operations over a ``ReviewService`` (its store, its confirm and reopen)."""

    def __init__(self, review: ReviewService) -> None:
        self.review = review
        self._cache: dict[Path, _ParsedBatch] = {}
        self._lock = threading.Lock()

    # ---- the list
    @staticmethod
    def batch_dir(directory: str | Path | None) -> Path:
        if directory is None or not str(directory).strip():
            raise InputError("no batch folder given", hint_zh="请填写批处理输出目录（nianbao batch --out 的目录）")
        path = Path(str(directory).strip()).expanduser()
        if not (path / RESULTS_NAME).is_file():
            raise InputError(f"{path} holds no {RESULTS_NAME}",
                             hint_zh=f"目录中没有 {RESULTS_NAME}：请选择 nianbao batch --out 的输出目录（{path}）")
        return path.resolve()

    def _parsed(self, directory: Path) -> _ParsedBatch:
        results = directory / RESULTS_NAME
        st = results.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._cache.get(directory)
        if cached is not None and cached.stamp == stamp:
            return cached
        lines = read_results(results).records
        reports = build_tables(lines).reports
        doubted = {str(r.get("source_path")): len(doubted_cells_of_json(r.get("findings") or [], r.get("evidence") or {}))
                   for r in reports}
        parsed = _ParsedBatch(stamp=stamp, lines=lines, reports=reports, doubted=doubted)
        with self._lock:
            self._cache[directory] = parsed
        return parsed

    def load(self, directory: str | Path | None) -> BatchQueue:
        """The batch's reports with their confirmed work, sorted for review."""
        path = self.batch_dir(directory)
        parsed = self._parsed(path)
        work = self.review.store.confirmed_work(
            (str(r.get("source_sha256") or ""), (r.get("meta") or {}).get("source_sha256"))
            for r in parsed.reports if r.get("status") == STATUS_OK)
        items = [QueueItem(line=r, duplicate_paths=tuple(r.get("_duplicate_paths") or ()),
                           confirmed=work.get(str(r.get("source_sha256") or "")) if r.get("status") == STATUS_OK else None,
                           n_doubted_cells=parsed.doubted.get(str(r.get("source_path")), 0))
                 for r in parsed.reports]
        items.sort(key=QueueItem.sort_key)
        return BatchQueue(directory=path, lines=parsed.lines, items=items)

    # ---- one report
    def open_item(self, directory: str | Path | None, key: str) -> ReviewSession:
        """The report under review: the confirmed record where one holds it, else the batch's reading
        with its evidence, exactly as a pasted report would show it."""
        queue = self.load(directory)
        item = queue.item(key)
        if not item.reviewable:
            why = "不是政府信息公开工作年度报告" if item.status == STATUS_NOT_A_REPORT else "读取失败"
            raise InputError(f"{key} was not read ({item.status})", hint_zh=f"这份文件{why}，无法审核：{item.error or ''}")
        if item.confirmed is not None:
            return replace(self.review.reopen(item.confirmed.record_id), origin=item.origin())
        doc = self._source(item)
        return self._session(item, doc)

    def _source(self, item: QueueItem) -> SourceDocument:
        """The file's text, refused when its bytes are no longer those the batch read."""
        path = Path(item.key)
        try:  # only a regular file, within the size limit (a pipe or a device put there since never blocks)
            data = read_regular(path, current_limits().max_bytes)
        except InputError as exc:
            raise InputError(f"cannot read {path}: {exc}",
                             hint_zh=f"无法读取源文件：{path}（{exc.hint_zh or '已移动或删除？'}）") from exc
        if hashlib.sha256(data).hexdigest() != item.file_sha256:
            raise InputError(f"{path} changed since the batch read it",
                             hint_zh=f"源文件在批处理之后被修改过：请先重新运行 nianbao batch（--resume）再审核：{path}")
        return self.review.load_file_bytes(data, path.name)

    def _session(self, item: QueueItem, doc: SourceDocument) -> ReviewSession:
        from extractor.pipeline import recheck, sha256_text

        line = item.line
        report = report_from_record(line)
        text_sha = sha256_text(doc.text)
        warnings = list(doc.warnings)
        findings: list[Finding] | None = None
        evidence: dict[str, Evidence] | None = None
        if text_sha == item.text_sha256:
            try:  # the batch's own evidence points into this very text
                findings = [Finding.model_validate(f) for f in line.get("findings") or []]
                evidence = {k: Evidence.model_validate(v) for k, v in (line.get("evidence") or {}).items()}
            except ValidationError:  # written by another version of nianbao: ground it again
                findings = evidence = None
        else:
            warnings.append("源文件的文本与批处理时不同（读取程序已更新），证据已按当前文本重新核验")
        if findings is None or evidence is None:
            found, grounded = recheck(report, doc.text)
            findings, evidence = list(found), dict(grounded)
        machine = {k: v for k, v in line.items() if not k.startswith("_")}
        settings = line.get("settings") or {}
        return ReviewSession(
            source_text=doc.text, source_sha256=text_sha, source_name=item.name, source_format=doc.format,
            engine=str(settings.get("engine") or (line.get("meta") or {}).get("engine") or "template"),
            machine=machine, report=report, findings=findings, evidence=evidence, warnings=warnings,
            origin=item.origin(),
        )

    # ---- confirming
    def confirm(self, session: ReviewSession, reviewer: str | None) -> tuple[ReviewSession, StoredRecord]:
        """A person's confirmation of the report on screen (with its batch line, when it came from one)."""
        return self.review.confirm(session, reviewer, via=CONFIRMED_ON_SCREEN)

    def confirm_clean(self, directory: str | Path | None, reviewer: str | None,
                      keys: Sequence[str] | None = None) -> BulkOutcome:
        """Confirm, unchanged, the reports without doubt: those of ``keys`` (the list the person looked at)
        that are still without doubt and unconfirmed, or all of them when ``keys`` is None. One that cannot
        be confirmed (file changed, someone else confirmed it first) is skipped with its reason."""
        name = (reviewer or "").strip()
        if not name:
            raise InputError("a reviewer name is required", hint_zh="请先填写审核人姓名，再批量确认")
        queue = self.load(directory)
        wanted = set(queue.clean_keys() if keys is None else keys)
        outcome = BulkOutcome()
        for item in queue.items:
            if item.key not in wanted:
                continue
            if item.state != STATE_CLEAN:
                outcome.skipped.append((item.key, f"已不属于无疑问的报告（{STATE_ZH[item.state]}）"))
                continue
            try:
                session = self._session(item, self._source(item))
                self.review.confirm(session, name, via=CONFIRMED_IN_BULK)
            except NianbaoError as exc:
                outcome.skipped.append((item.key, zh_error(exc)))
                continue
            outcome.confirmed.append(item.key)
        return outcome

    # ---- the finished dataset
    def export(self, directory: str | Path | None, fmt: str, out_dir: str | Path | None = None) -> Path:
        """The confirmed reports of this batch as the batch exports them (``fmt``: csv, xlsx or jsonl), one
        row per report, with who confirmed it, when, how, and how many cells the review changed."""
        if fmt not in CONFIRMED_FORMATS:
            raise InputError(f"unknown export format {fmt}", hint_zh=f"未知的导出格式：{fmt}")
        queue = self.load(directory)
        confirmations = {
            it.key: Confirmation(record=self.review.store.get(it.confirmed.record_id), via=it.confirmed.via)
            for it in queue.items if it.confirmed is not None
        }
        if not confirmations:
            raise InputError("nothing confirmed yet", hint_zh="本批次还没有已确认的报告，没有可导出的内容")
        lines = confirmed_lines(queue.lines, confirmations)
        if out_dir is not None:
            paths, jsonl = write_confirmed(Path(out_dir), lines)
            return export_file(paths, jsonl, fmt)
        # for download: a private folder (0700, files 0600) removed after an hour or at exit, as the
        # review screen's exports (ReviewService.export)
        target = self.review.exports.new_dir()
        paths, jsonl = write_confirmed(target, lines)
        self.review.exports.seal(target)
        return export_file(paths, jsonl, fmt)
