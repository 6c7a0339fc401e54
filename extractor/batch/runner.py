"""Run the pipeline over many files: hash, skip what is settled, read the rest on worker threads, and
append each file's line to results.jsonl the moment it is done.

One thread (the caller's) owns admission and writing; workers only read files and run the pipeline.
That keeps the results log single-writer and makes the de-duplication decisions in input order, so an
interrupted-then-resumed batch records the same primary path for duplicated content as an
uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from extractor.config import RunConfig
from extractor.engine_catalog import MODEL_ENGINES
from extractor.errors import ConfigError, InputError, LLMError, ModelUnavailableError, NianbaoError, NotAReportError
from extractor.ingest.regular_file import UnreadableNowError
from extractor.schema import Report
from extractor.time_budget import FileTimeoutError, WorkerDiedError, WorkerPool, run_within_budget

from extractor.batch.results_log import (
    RESULTS_NAME,
    STATUS_DUPLICATE,
    STATUS_FAILED,
    STATUS_NOT_A_REPORT,
    STATUS_OK,
    DoneIndex,
    LoadedResults,
    Record,
    ResultsLog,
    read_results,
)

# Engines that call a language model: their results depend on the model and the prompts.
LLM_ENGINES: frozenset[str] = MODEL_ENGINES

_PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


def prompt_version(prompts_dir: Path | None = None) -> str | None:
    """The version of the prompts the LLM engines use: editing a prompt invalidates results made
    with the old one. The LLM reader's own notion (``extractor.prompting``) wins when present, so
    batch resume and the LLM cache agree; otherwise a fingerprint of every prompt file."""
    if prompts_dir is None:
        try:
            from extractor.prompting import prompt_version as reader_prompt_version

            return reader_prompt_version()
        except (ImportError, OSError):
            prompts_dir = _PROMPTS_DIR
    if not prompts_dir.is_dir():
        return None
    files = sorted(p for p in prompts_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        return None
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(prompts_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(p.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BatchSettings:
    """What decides a file's result besides its bytes; ``key`` is what ``--resume`` compares."""

    engine: str
    model: str | None
    prompt_version: str | None

    @classmethod
    def from_config(cls, config: RunConfig) -> "BatchSettings":
        if config.engine in LLM_ENGINES:
            return cls(engine=config.engine, model=config.model, prompt_version=prompt_version())
        # The template engine reads no model and no prompt; changing --model must not redo its work.
        return cls(engine=config.engine, model=None, prompt_version=None)

    @property
    def key(self) -> str:
        blob = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def as_dict(self) -> dict[str, str | None]:
        return {"engine": self.engine, "model": self.model, "prompt_version": self.prompt_version}


def default_jobs(config: RunConfig) -> int:
    """Workers when ``-j`` is not given: one for the embedded model (it uses every core already) and
    for the CPU-bound template engine; several requests in flight against a served endpoint."""
    if config.engine in LLM_ENGINES and not config.model.startswith("local:"):
        return 4
    return 1


def sha256_file(path: Path) -> str:
    """The file's SHA-256; InputError for what the loader would refuse anyway before reading a byte
    of it (a pipe, a device, a symlink loop: hashing those would block or never end; a file over
    the size limit)."""
    from extractor.ingest.limits import current_limits
    from extractor.ingest.regular_file import hash_regular

    return hash_regular(path, current_limits().max_bytes, hashlib.sha256())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _describe(exc: BaseException) -> str:
    """One line, Chinese first where the error carries a Chinese hint."""
    if isinstance(exc, NianbaoError):
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return f"{exc.hint_zh}：{message}" if exc.hint_zh else message
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"内部错误 {type(exc).__name__}: {text}" if text else f"内部错误 {type(exc).__name__}"


def _base_record(path: Path, sha256: str | None, settings: BatchSettings) -> Record:
    return {
        "source_path": str(path),
        "source_sha256": sha256,
        "settings_key": settings.key,
        "settings": settings.as_dict(),
        "status": STATUS_FAILED,
        "error": None,
        "error_type": None,
        "retryable": False,
        "duplicate_of": None,
    }


def _empty_report_fields() -> dict[str, Any]:
    return Report().canonical()


def failed_record(path: Path, sha256: str | None, settings: BatchSettings, exc: BaseException,
                  *, status: str = STATUS_FAILED, retryable: bool = False) -> Record:
    record = _base_record(path, sha256, settings)
    record.update(_empty_report_fields())
    record.update(findings=[], evidence={}, meta={"engine": settings.engine})
    record.update(status=status, error=_describe(exc), error_type=type(exc).__name__, retryable=retryable)
    record["counts"] = {"findings": 0, "errors": 0, "report_errors": 0, "extraction_doubts": 0}
    record["finished_at"] = _now()
    return record


def duplicate_record(path: Path, sha256: str, settings: BatchSettings, primary: str) -> Record:
    """A path whose bytes equal an already-read file's: recorded, not read again."""
    record = _base_record(path, sha256, settings)
    record.update(status=STATUS_DUPLICATE, duplicate_of=primary, finished_at=_now())
    return record


class FatalBatchError(Exception):
    """A failure that would repeat for every file (wrong settings, model unreachable): stop the batch."""

    def __init__(self, cause: NianbaoError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def process_file(path: Path, sha256: str, config: RunConfig, settings: BatchSettings) -> Record:
    """Read one file into its results line. Never raises for a bad file; raises ``FatalBatchError``
    only for errors that no other file could escape."""
    # Imported here so that the batch command (its usage errors, --help) works even while an
    # engine's optional dependency is missing.
    from extractor.ingest import load_path
    from extractor.pipeline import extract_document

    try:
        doc = load_path(path)
        result = extract_document(doc, config)
    except InputError as exc:
        return failed_record(path, sha256, settings, exc)
    except NotAReportError as exc:
        return failed_record(path, sha256, settings, exc, status=STATUS_NOT_A_REPORT)
    except LLMError as exc:
        # The model gave up on this file; another try later (a resume) may well succeed.
        return failed_record(path, sha256, settings, exc, retryable=True)
    except (ConfigError, ModelUnavailableError) as exc:
        raise FatalBatchError(exc) from exc
    except Exception as exc:  # noqa: BLE001 - a bug on one file must not stop the batch
        return failed_record(path, sha256, settings, exc)

    record = _base_record(path, sha256, settings)
    record.update(result.to_dict())
    status = result.status
    record["status"] = status
    if status != STATUS_OK:
        record["error"] = result.error or ("不是政府信息公开工作年度报告" if status == STATUS_NOT_A_REPORT else "读取失败")
        record["error_type"] = "NotAReport" if status == STATUS_NOT_A_REPORT else "ExtractionFailed"
        record["retryable"] = status == STATUS_FAILED and config.engine in LLM_ENGINES
    record["counts"] = finding_counts(record["findings"])
    record["finished_at"] = _now()
    return record


def finding_counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """A line's ``counts`` from its findings (as JSON): what the exports and the review queue sort by.
    报告自身错误 leaves out "info" findings, as ``ExtractionResult.report_errors`` does."""
    items = list(findings)
    return {
        "findings": len(items),
        "errors": sum(1 for f in items if f.get("severity") == "error"),
        "report_errors": sum(1 for f in items if f.get("attribution") == "report" and f.get("severity") != "info"),
        "extraction_doubts": sum(1 for f in items if f.get("attribution") == "extraction"),
    }


class BatchProgress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, status: str, path: Path) -> None: ...


class _NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, status: str, path: Path) -> None:
        pass


@dataclass
class BatchOutcome:
    total: int = 0
    processed: int = 0  # files read by the pipeline in this run
    skipped: int = 0  # settled by an earlier run (--resume)
    duplicates: int = 0  # recorded as duplicates in this run
    by_status: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    fatal: NianbaoError | None = None
    truncated_tail: bool = False  # the previous run left a cut last line (redone)
    bad_lines: int = 0
    seconds: float = 0.0


class BatchRunner:
    def __init__(self, files: list[Path], out_dir: Path, config: RunConfig, *, jobs: int = 1,
                 resume: bool = False, retry_failed: bool = False, progress: BatchProgress | None = None,
                 time_budget_s: float | None = None) -> None:
        self.files = files
        self.out_dir = out_dir
        self.config = config
        self.jobs = max(1, jobs)
        self.resume = resume
        self.retry_failed = retry_failed
        self.settings = BatchSettings.from_config(config)
        self.progress: BatchProgress = progress or _NoProgress()
        self._stop = threading.Event()
        self.results_path = out_dir / RESULTS_NAME
        self._pool: WorkerPool | None = None
        # the worker; replaceable so orchestration tests can inject faults without a pipeline (with a
        # time budget it runs in a worker process, so it must then be a module-level function)
        self.process: Callable[[Path, str, RunConfig, BatchSettings], Record] = process_file
        # seconds a file may take (time_budget.py); None: read in this process's worker threads, unbounded
        self.time_budget_s = time_budget_s

    def _read(self, path: Path, sha: str) -> Record:
        """One file's line, within the time budget: a file that overruns it (or kills its worker) is a
        failed line like any unreadable file, and the batch goes on."""
        try:
            return run_within_budget(self.process, path, sha, self.config, self.settings,
                                     budget_s=self.time_budget_s, pool=self._pool)
        except (FileTimeoutError, WorkerDiedError) as exc:
            return failed_record(path, sha, self.settings, exc)

    def request_stop(self) -> None:
        """Admit no new file; the files already being read finish and are written."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> BatchOutcome:
        outcome = BatchOutcome(total=len(self.files))
        started = time.perf_counter()
        loaded = read_results(self.results_path) if self.resume else LoadedResults()
        outcome.truncated_tail = loaded.truncated_tail
        outcome.bad_lines = loaded.bad_lines
        index = DoneIndex.from_records(loaded.records, self.retry_failed)
        log = ResultsLog(self.results_path)
        log.open(loaded if self.resume else None)

        in_flight: dict[Future[Record], tuple[Path, str]] = {}
        primary_this_run: dict[str, str] = {}  # sha256 -> path read (or being read) in this run
        waiting_duplicates: dict[str, list[Path]] = {}
        key = self.settings.key

        def write(record: Record, path: Path) -> None:
            log.append(record)
            index.add(record)
            status = record["status"]
            outcome.by_status[status] = outcome.by_status.get(status, 0) + 1
            if status == STATUS_DUPLICATE:
                outcome.duplicates += 1
            self.progress.advance(status, path)

        def admit(path: Path) -> None:
            try:
                sha = sha256_file(path)
            except InputError as exc:
                # vanished or unreadable right now: retried by a resume; a pipe, device or loop: not
                write(failed_record(path, None, self.settings, exc, retryable=isinstance(exc, UnreadableNowError)), path)
                return
            spath = str(path)
            if index.is_settled(spath, sha, key):
                outcome.skipped += 1
                self.progress.advance("skipped", path)
                return
            primary = index.primary_for(sha, key) or primary_this_run.get(sha)
            if primary is not None and primary != spath:
                if sha in waiting_duplicates or any(s == sha for _, s in in_flight.values()):
                    # its twin is still being read: record it after the twin's line is on disk
                    waiting_duplicates.setdefault(sha, []).append(path)
                else:
                    write(duplicate_record(path, sha, self.settings, primary), path)
                return
            primary_this_run[sha] = spath
            future = executor.submit(self._read, path, sha)
            in_flight[future] = (path, sha)

        def finish(future: Future[Record]) -> None:
            path, sha = in_flight.pop(future)
            try:
                record = future.result()
            except FatalBatchError as exc:
                if outcome.fatal is None:
                    outcome.fatal = exc.cause
                self._stop.set()
                # the file is not recorded: a resume reads it once the settings or model are fixed
                waiting_duplicates.pop(sha, None)
                return
            except Exception as exc:  # noqa: BLE001 - a replaced worker that raised; still one line
                record = failed_record(path, sha, self.settings, exc)
            outcome.processed += 1
            write(record, path)
            for twin in waiting_duplicates.pop(sha, []):
                write(duplicate_record(twin, sha, self.settings, str(path)), twin)

        self.progress.start(len(self.files))
        if self.time_budget_s is not None:
            # one worker process per job slot, kept for the whole run, closed at its end
            self._pool = WorkerPool(keep=self.jobs)
        executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="nianbao-batch")
        pending: Iterator[Path] = iter(self.files)
        exhausted = False
        try:
            while True:
                while not self._stop.is_set() and not exhausted and len(in_flight) < self.jobs:
                    nxt = next(pending, None)
                    if nxt is None:
                        exhausted = True
                    else:
                        admit(nxt)
                if not in_flight:
                    break
                done, _ = wait(list(in_flight), timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(future)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            log.close()
            if self._pool is not None:
                self._pool.close()
                self._pool = None
        outcome.interrupted = self._stop.is_set() and outcome.fatal is None and not exhausted
        outcome.seconds = time.perf_counter() - started
        return outcome


@contextmanager
def stop_on_interrupt(runner: BatchRunner, on_first: Callable[[], None] | None = None,
                      exit_code: int = 130) -> Iterator[None]:
    """First Ctrl-C: stop admitting files and let the ones in flight finish and be written.
    Second Ctrl-C: leave at once (every finished line is already fsynced; a line being written at
    that instant may be cut, which ``--resume`` tolerates)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if runner.stopping:
            os._exit(exit_code)
        runner.request_stop()
        if on_first is not None:
            on_first()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
