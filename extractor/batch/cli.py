"""``nianbao batch``: many reports in, results.jsonl + reports.csv/xlsx + findings.csv out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from extractor.batch.inputs import SUPPORTED_EXTENSIONS, expand_inputs
from extractor.batch.out_lock import OutDirBusy, OutDirLock
from extractor.batch.results_log import RESULTS_NAME, STATUS_DUPLICATE, STATUS_FAILED, STATUS_NOT_A_REPORT, STATUS_OK, read_results
from extractor.batch.runner import BatchOutcome, BatchRunner, default_jobs, stop_on_interrupt
from extractor.config import RunConfig
from extractor.engine_catalog import EngineName, engine_option_parser, engines_help
from extractor.exports import BatchSummary, ExportPaths, write_exports
from extractor.progress_lines import ThrottledLines

USAGE_EXIT = 2
INTERRUPTED_EXIT = 130
_MAX_FAILURES_SHOWN = 20


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- 份/秒" if not speed else f"{speed:.2f} 份/秒", style="cyan")


def _new_counts() -> dict[str, int]:
    return {STATUS_OK: 0, STATUS_FAILED: 0, STATUS_NOT_A_REPORT: 0, STATUS_DUPLICATE: 0, "skipped": 0}


def _counts_text(c: dict[str, int]) -> str:
    return f"成功 {c[STATUS_OK]} 失败 {c[STATUS_FAILED]} 非年报 {c[STATUS_NOT_A_REPORT]} 重复 {c[STATUS_DUPLICATE]}"


class RichBatchProgress:
    """A progress bar whose total is the work left: files skipped by --resume leave the total, so the
    rate and ETA describe only files actually read."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]年报批处理[/]"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
            TimeElapsedColumn(), TextColumn("剩余"), TimeRemainingColumn(), TextColumn("{task.fields[counts]}"),
            console=console, transient=False,
        )
        self.counts = _new_counts()
        self.task_id = self.progress.add_task("batch", total=0, counts="", start=False)

    def _counts_text(self) -> str:
        c = self.counts
        return _counts_text(c) + (f" 已完成跳过 {c['skipped']}" if c["skipped"] else "")

    def start(self, total: int) -> None:
        self.progress.update(self.task_id, total=total, counts=self._counts_text())
        self.progress.start_task(self.task_id)

    def advance(self, status: str, path: Path) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        task = self.progress.tasks[0]
        if status == "skipped":
            self.progress.update(self.task_id, total=(task.total or 1) - 1, counts=self._counts_text())
        else:
            self.progress.update(self.task_id, advance=1, counts=self._counts_text())

    def __enter__(self) -> "RichBatchProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


class LineBatchProgress:
    """The same counts as plain lines, for a log file or CI where a live bar would print nothing."""

    def __init__(self, console: Console, interval: float = 10.0) -> None:
        self.console = console
        self.counts = _new_counts()
        self.total = 0
        self.done = 0
        self.lines = ThrottledLines(lambda line: console.print(line, highlight=False, soft_wrap=True), interval)

    def start(self, total: int) -> None:
        self.total = total
        self.console.print(f"年报批处理 batch: {total} 个文件待读取 files to read", highlight=False)

    def advance(self, status: str, path: Path) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        if status == "skipped":
            self.total = max(self.total - 1, 0)
            return
        self.done += 1
        self.lines.tick(self.done, self.total, f"{_counts_text(self.counts)} · {path.name}")

    def __enter__(self) -> "LineBatchProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _usage_error(err: Console, zh: str, en: str) -> SystemExit:
    err.print(f"[bold red]错误[/]：{zh}\n[dim]error: {en}[/]", highlight=False)
    # SystemExit rather than typer.Exit: click returns (not raises) a typer.Exit's code when not in
    # standalone mode, and ``extractor.cli.main`` would then report 0.
    return SystemExit(USAGE_EXIT)


def _lock_out_dir(out: Path, err: Console) -> OutDirLock:
    try:
        return OutDirLock(out).acquire()
    except OutDirBusy as exc:
        raise _usage_error(err, f"另一个批处理（{exc.holder}）正在写入输出目录 {out}；请等它结束，或换一个 --out 目录",
                           f"another batch ({exc.holder}) is writing to --out {out}; wait for it or choose "
                           "another --out directory") from None
    except OSError as exc:
        raise _usage_error(err, f"无法在输出目录 {out} 中加锁：{exc.strerror}", f"cannot lock --out {out}: {exc}") from None


def _prepare_out_dir(out: Path, resume: bool, err: Console) -> tuple[Path, OutDirLock]:
    """The resolved --out folder, locked for this batch (checked before results.jsonl is looked at,
    so a second batch hears that the folder is busy, not that it should pass --resume)."""
    if out.exists() and not out.is_dir():
        raise _usage_error(err, f"输出路径 {out} 已存在且不是目录", f"--out {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _usage_error(err, f"无法创建输出目录 {out}：{exc.strerror}", f"cannot create --out {out}: {exc}") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise _usage_error(err, f"输出目录 {out} 不可写", f"--out {out} is not writable")
    lock = _lock_out_dir(out, err)
    results = out / RESULTS_NAME
    if results.exists() and results.stat().st_size > 0 and not resume:
        lock.release()
        raise _usage_error(
            err,
            f"{results} 已存在。加 --resume 继续这次批处理（跳过已完成的文件），或换一个新的 --out 目录。",
            f"{results} already exists; pass --resume to continue that batch, or choose a new --out directory",
        )
    return out.resolve(), lock


def _summary_table(summary: BatchSummary, outcome: BatchOutcome) -> Table:
    table = Table(title="批处理汇总 batch summary", show_header=True, header_style="bold")
    table.add_column("项目 item")
    table.add_column("数量 count", justify="right")
    rows = (
        ("文件 files", summary.files, ""),
        ("已读取 read", summary.read, "green"),
        ("无错误 clean", summary.clean, "green"),
        ("含报告错误 with report errors", summary.with_report_errors, "yellow"),
        ("需复核 needing review", summary.needing_review, "yellow"),
        ("未读取 not read", summary.not_read, "red"),
        ("  失败 failed", summary.failed, "red"),
        ("  非年报 not a report", summary.not_a_report, "red"),
        ("重复（含未读取文件的副本）duplicates", summary.duplicates, ""),
        ("与上年度报告不衔接 year-to-year mismatches", summary.year_to_year, "yellow"),
    )
    for label, value, style in rows:
        table.add_row(label, str(value), style=style if value else "")
    return table


def _run_line(outcome: BatchOutcome) -> str:
    rate = f"，{outcome.processed / outcome.seconds:.2f} 份/秒" if outcome.processed and outcome.seconds else ""
    return (f"本次 this run: 读取 {outcome.processed}，续跑跳过 {outcome.skipped}，"
            f"用时 {outcome.seconds:.1f} 秒{rate}")


def _print_failures(console: Console, summary: BatchSummary) -> None:
    if not summary.failures:
        return
    console.print(f"[bold]未能读取的文件 files not read[/]（{len(summary.failures)}）：", highlight=False)
    for path, status, error in summary.failures[:_MAX_FAILURES_SHOWN]:
        label = "非年报" if status == STATUS_NOT_A_REPORT else "失败"
        console.print(f"  [red]{label}[/] {path}\n      {error}", highlight=False, soft_wrap=True)
    if len(summary.failures) > _MAX_FAILURES_SHOWN:
        console.print(f"  … 其余 {len(summary.failures) - _MAX_FAILURES_SHOWN} 个见 reports.csv", highlight=False)


def batch(
    inputs: Annotated[list[str], typer.Argument(metavar="INPUT...", show_default=False,
                                                help="文件、目录（递归）或通配符 files, directories (recursive) or globs")],
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录 output directory", show_default=False)],
    engine: Annotated[EngineName, typer.Option("--engine", "-e", parser=engine_option_parser(),
                                               help=f"提取引擎 engine: {engines_help()}")] = RunConfig.model_fields["engine"].default,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, show_default=False,
                                                help="并行数 workers (default: 1; 4 against a served endpoint)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="继续上次批处理，跳过已完成的文件 skip files already done")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="续跑时也重做失败的文件 with --resume, redo failed files too")] = False,
    model: Annotated[Optional[str], typer.Option("--model", "-m", show_default=False,
                                                 help="模型 model, e.g. local:qwen2.5-coder-1.5b or openai:gpt-4o-mini")] = None,
    file_timeout: Annotated[Optional[float], typer.Option(
        "--file-timeout", min=0, show_default=False,
        help="每个文件的时限（秒），超时记为失败 seconds one file may take before it is stopped and recorded as failed "
             "(default: NIANBAO_FILE_TIMEOUT, else 300 for template, 1800 for LLM engines; 0: no limit)")] = None,
) -> None:
    """批量提取年报 Read many reports: results.jsonl, reports.csv/xlsx and findings.csv in --out."""
    err = Console(stderr=True)
    console = Console()

    try:
        config = RunConfig(engine=engine, model=model) if model else RunConfig(engine=engine)
    except ValueError as exc:
        raise _usage_error(err, f"设置无效：{exc}", f"invalid settings: {exc}") from exc
    workers = jobs or default_jobs(config)
    config = config.model_copy(update={"concurrency": workers})

    from extractor.errors import ConfigError
    from extractor.time_budget import file_budget_s

    try:
        budget_s = file_budget_s(config.engine, file_timeout)
    except ConfigError as exc:
        raise _usage_error(err, exc.hint_zh or str(exc), str(exc)) from exc

    try:
        import extractor.pipeline  # noqa: F401 - an installation problem is reported once, not per file
        from extractor.engines import get_engine

        get_engine(config.engine)
    except ConfigError as exc:
        raise _usage_error(err, exc.hint_zh or f"引擎 {engine} 不可用", str(exc)) from exc
    except ImportError as exc:
        raise _usage_error(err, f"提取流程无法加载：{exc}", f"the pipeline cannot be imported: {exc}") from exc

    out_dir, lock = _prepare_out_dir(out, resume, err)
    try:
        _run_locked(inputs, out_dir, config, workers, resume, retry_failed, budget_s, err, console)
    finally:
        lock.release()


def _run_locked(inputs: list[str], out_dir: Path, config: RunConfig, workers: int, resume: bool, retry_failed: bool,
                budget_s: float | None, err: Console, console: Console) -> None:
    """The batch proper, while this process holds the --out folder's lock."""
    expanded = expand_inputs(inputs, exclude=[out_dir])
    for arg in expanded.unmatched:
        err.print(f"[yellow]警告[/]：{arg} 没有找到可读取的文件 (nothing found; formats: "
                  f"{' '.join(sorted(SUPPORTED_EXTENSIONS))})", highlight=False)
    if not expanded.files:
        raise _usage_error(err, "没有找到任何输入文件", "no input files found")

    progress_view = RichBatchProgress(err) if err.is_terminal else LineBatchProgress(err)
    with progress_view as progress:
        runner = BatchRunner(expanded.files, out_dir, config, jobs=workers, resume=resume,
                             retry_failed=retry_failed, progress=progress, time_budget_s=budget_s)

        def on_first_interrupt() -> None:
            err.print("[yellow]正在停止：等待进行中的文件完成并写入… 再按一次 Ctrl-C 立即退出[/]\n"
                      "[dim]stopping after the files in flight; press Ctrl-C again to quit now[/]")

        with stop_on_interrupt(runner, on_first_interrupt, exit_code=INTERRUPTED_EXIT):
            outcome = runner.run()

    if outcome.truncated_tail:
        err.print("[yellow]注意[/]：上次运行在写入最后一行时中断；该行已丢弃，对应文件已重新读取。", highlight=False)
    if outcome.bad_lines:
        err.print(f"[yellow]注意[/]：{RESULTS_NAME} 中有 {outcome.bad_lines} 行无法解析，已忽略。", highlight=False)

    paths, summary = _export(out_dir)
    console.print(_summary_table(summary, outcome))
    console.print(_run_line(outcome), highlight=False)
    _print_failures(console, summary)
    console.print(f"结果 results: {out_dir / RESULTS_NAME}\n"
                  f"导出 exports: {paths.reports_csv.name}, {paths.reports_xlsx.name}, {paths.findings_csv.name}",
                  highlight=False, soft_wrap=True)

    if outcome.fatal is not None:
        fatal = outcome.fatal
        err.print(f"[bold red]批处理已停止[/]：{fatal.hint_zh or ''} {fatal}\n"
                  "[dim]fix the settings or start the model, then rerun with --resume[/]", highlight=False)
        raise SystemExit(fatal.exit_code)
    if outcome.interrupted:
        err.print("[yellow]已中断[/]：已完成的结果都已保存；加 --resume 重新运行即可继续。\n"
                  "[dim]interrupted; everything finished is saved, rerun with --resume to continue[/]")
        raise SystemExit(INTERRUPTED_EXIT)


def _export(out_dir: Path) -> tuple[ExportPaths, BatchSummary]:
    loaded = read_results(out_dir / RESULTS_NAME)
    return write_exports(out_dir, loaded.records)


def register(app: typer.Typer) -> None:
    app.command("batch", no_args_is_help=True)(batch)
