"""``nianbao eval``: score engines on a directory of hand-labeled samples."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from extractor.engine_catalog import EngineName, engine_option_parser, engines_help
from extractor.progress_lines import StepLines

from evals.dataset import DEFAULT_SAMPLES_DIR, load_dirs
from evals.report_md import METRICS, fmt, render_markdown, usage_table
from evals.runner import EvalOptions, run_eval, total_steps

SUMMARY_KEYS: tuple[str, ...] = (
    "reports", "cell_accuracy", "nonzero_accuracy", "false_nonzero", "reports_exact", "reports_failed",
    "flag_recall", "flag_precision", "attribution_accuracy", "mutation_detection", "hallucination_detection",
    "seconds_per_report", "tokens_in_per_report", "tokens_out_per_report",
)


def _usage_table(engines: dict[str, dict[str, Any]]) -> Table | None:
    header, rows = usage_table(engines)
    if not rows:
        return None
    table = Table(title="模型用量 tokens per report, by call")
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _summary_table(engines: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="nianbao eval 评测结果")
    table.add_column("指标 metric")
    for name in engines:
        table.add_column(name, justify="right")
    kinds = {key: (label, kind) for key, label, kind in METRICS}
    for key in SUMMARY_KEYS:
        label, kind = kinds[key]
        table.add_row(label, *(fmt(engines[name].get(key), kind) for name in engines))
    return table


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (a timeout, a scheduler) like Ctrl-C, so the reports already scored are written and
    the embedded model's server is stopped by the normal exit path instead of being orphaned."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def eval_command(
    dirs: list[Path] = typer.Argument(None, help="sample directories (NAME.json gold beside NAME.txt/.html/.pdf/.docx); default: evals/samples"),
    # list[str] for typer (it takes no Literal inside a list); the parser hands back EngineNames
    engine: list[str] = typer.Option(None, "--engine", "-e", parser=engine_option_parser(),
                                     help=f"engine to score, repeatable: {engines_help()} (default template)"),
    model: str | None = typer.Option(None, "--model", "-m", help="model for the LLM engines, e.g. local:qwen2.5-coder-1.5b or openai:gpt-4o-mini"),
    json_out: Path | None = typer.Option(None, "--json", help="write all figures as one JSON object to this file"),
    md_out: Path | None = typer.Option(None, "--md", help="write a readable Markdown report to this file"),
    mutations: int = typer.Option(3, "--mutations", min=0, help="checker mutations per sample (0: skip the mutation test)"),
    seed: int = typer.Option(0, "--seed", help="seed of the mutation test's random choices"),
) -> None:
    """评测：把引擎的提取结果与人工标注对比，并检验核查器本身。Score engines against hand-labeled samples."""
    err = Console(stderr=True)
    chosen: list[EngineName] = cast(list[EngineName], engine) or ["template"]
    engines = list(dict.fromkeys(chosen))
    directories = list(dirs) if dirs else [DEFAULT_SAMPLES_DIR]
    dataset = load_dirs(directories)
    for problem in dataset.problems:
        err.print(f"[yellow]跳过 skipped[/yellow] {problem.path}: {problem.reason}")
    if not dataset.samples:
        err.print(f"[red]没有可评测的样本 no samples found[/red] in {', '.join(map(str, directories))} "
                  "(expected NAME.json beside NAME.txt/.html/.pdf/.docx)")
        raise typer.Exit(2)

    options = EvalOptions(engines=engines, model=model, mutations=mutations, seed=seed)
    if err.is_terminal:
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=False) as progress:
            task = progress.add_task("评测 eval", total=total_steps(dataset, options))

            def on_progress(description: str, advance: int) -> None:
                progress.update(task, description=description, advance=advance)

            with _sigterm_as_interrupt():
                result = run_eval(dataset, options, on_progress)
            progress.update(task, description="评测完成 done")
    else:
        # A log file or CI: a live bar would stay blank for the hours an LLM engine takes.
        lines = StepLines(total_steps(dataset, options), lambda line: err.print(line, highlight=False, soft_wrap=True))
        with _sigterm_as_interrupt():
            result = run_eval(dataset, options, lines.update)

    data = result.to_dict()  # the JSON object: what --json writes and the tables and Markdown read
    Console().print(_summary_table(data["engines"]))
    usage = _usage_table(data["engines"])
    if usage is not None:
        Console().print(usage)
    for name, metrics in result.engines.items():
        for failed in metrics.failed_samples:
            err.print(f"[red]{name} 失败 failed[/red] {failed.sample} ({failed.status}): {failed.error}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        err.print(f"JSON → {json_out}")
    if md_out is not None:
        md_out.parent.mkdir(parents=True, exist_ok=True)
        md_out.write_text(render_markdown(data), encoding="utf-8")
        err.print(f"Markdown → {md_out}")
    if result.interrupted:
        err.print("[yellow]已中断 interrupted: the figures cover only the reports read so far[/yellow]")
        raise typer.Exit(130)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
