"""``nianbao extract``, ``nianbao check`` and ``nianbao schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

from extractor.config import ENGINES, RunConfig
from extractor.errors import NianbaoError
from extractor.ingest import load_path
from extractor.pipeline import extract_document, recheck, sha256_text
from extractor.render import print_result
from extractor.result import ExtractionResult
from extractor.schema import Report

err = Console(stderr=True)


def _fail(exc: NianbaoError) -> None:
    err.print(f"[bold red]error:[/] {exc.message}")
    if exc.hint:
        err.print(f"[dim]hint: {exc.hint}[/]")
    if exc.hint_zh:
        err.print(f"[dim]{exc.hint_zh}[/]")
    raise typer.Exit(exc.exit_code)


def extract(
    file: Annotated[str, typer.Argument(help="Report file (txt, html, pdf, docx) or - for standard input.")],
    engine: Annotated[str, typer.Option("--engine", "-e", help=f"One of: {', '.join(ENGINES)}.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print canonical JSON with findings and evidence.")] = False,
    model: Annotated[Optional[str], typer.Option(help="local:<name> or openai:<model> (LLM engines).")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible endpoint for openai:<model>.")] = None,
) -> None:
    """Read one report and verify every number."""
    try:
        kwargs: dict[str, object] = {"engine": engine}
        if model:
            kwargs["model"] = model
        if base_url:
            kwargs["base_url"] = base_url
        config = RunConfig.model_validate(kwargs)
    except ValidationError:
        from extractor.engines import get_engine

        try:
            get_engine(engine)
        except NianbaoError as exc:
            _fail(exc)
        raise
    try:
        doc = load_path(file)
        progress_console = err if as_json else Console(stderr=True)
        with progress_console.status("reading…") as status:
            result = extract_document(doc, config, progress=lambda stage, frac: status.update(f"{stage}…"))
    except NianbaoError as exc:
        _fail(exc)
        return
    if result.status == "not_a_report":
        err.print(f"[bold yellow]not a report:[/] {result.error}")
        err.print("[dim]这不是一份政府信息公开工作年度报告[/]")
        if as_json:
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        raise typer.Exit(3)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        print_result(result)


def check(
    report_json: Annotated[Path, typer.Argument(help="Canonical report JSON (as `extract --json` writes it).")],
    source: Annotated[Optional[str], typer.Option("--source", help="The report's source text, for grounding.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Run grounding and the checker on an existing canonical report."""
    try:
        raw = report_json.read_text(encoding="utf-8")
        data = json.loads(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        err.print(f"[bold red]error:[/] cannot read {report_json}: {exc}")
        raise typer.Exit(2) from None
    for extra in ("findings", "evidence", "meta", "source_text"):
        data.pop(extra, None) if isinstance(data, dict) else None
    try:
        report = Report.model_validate(data)
    except ValidationError as exc:
        err.print(f"[bold red]error:[/] {report_json} is not a canonical report:\n{exc}")
        raise typer.Exit(2) from None
    text: str | None = None
    if source:
        try:
            text = load_path(source).text
        except NianbaoError as exc:
            _fail(exc)
    findings, evidence = recheck(report, text)
    result = ExtractionResult(report=report, findings=findings, evidence=evidence, source_text=text or "",
                              source_sha256=sha256_text(text or ""), meta={"engine": "check"})
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        print_result(result)


def schema() -> None:
    """Print the JSON Schema of the canonical report."""
    sys.stdout.write(json.dumps(Report.model_json_schema(), ensure_ascii=False, indent=1) + "\n")


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
    app.command("check")(check)
    app.command("schema")(schema)
