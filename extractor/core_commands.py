"""``nianbao extract``, ``nianbao check`` and ``nianbao schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from extractor.config import RunConfig
from extractor.engine_catalog import EngineName, engine_option_parser, engines_help
from extractor.errors import NianbaoError
from extractor.findings import Finding, doubted_cells, doubted_cells_of_json
from extractor.ingest import load_path
from extractor.pipeline import extract_document, recheck, sha256_text
from extractor.render import print_result
from extractor.result import ExtractionResult
from extractor.rules import check_year_pair
from extractor.schema import Report
from extractor.year_checks import YearReport, agency_key

err = Console(stderr=True)


def _error_line(message: str) -> None:
    # soft_wrap: the message stays one line in a log, whatever the terminal width
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)


def _fail(exc: NianbaoError) -> None:
    _error_line(exc.message)
    if exc.hint:
        err.print(f"[dim]hint: {exc.hint}[/]", soft_wrap=True, highlight=False)
    if exc.hint_zh:
        err.print(f"[dim]{exc.hint_zh}[/]", soft_wrap=True, highlight=False)
    raise typer.Exit(exc.exit_code)


def extract(
    file: Annotated[str, typer.Argument(help="Report file (txt, html, pdf, docx) or - for standard input.")],
    engine: Annotated[EngineName, typer.Option("--engine", "-e", parser=engine_option_parser(),
                                               help=f"One of: {engines_help()}.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print canonical JSON with findings and evidence.")] = False,
    model: Annotated[Optional[str], typer.Option(help="local:<name> or openai:<model> (LLM engines).")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible endpoint for openai:<model>.")] = None,
) -> None:
    """Read one report and verify every number."""
    kwargs: dict[str, object] = {"engine": engine}
    if model:
        kwargs["model"] = model
    if base_url:
        kwargs["base_url"] = base_url
    config = RunConfig.model_validate(kwargs)
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


def _read_report_json(path: Path) -> tuple[Report, dict[str, Any]]:
    """A canonical report file and what else it carries (findings, evidence of an earlier run)."""
    from extractor.ingest.limits import current_limits
    from extractor.ingest.regular_file import read_regular

    try:
        data = json.loads(read_regular(path, current_limits().max_bytes).decode("utf-8"))
    except NianbaoError as exc:  # missing, a pipe or device, a loop, too large
        _fail(exc)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _error_line(f"cannot read {path}: {exc}")
        raise typer.Exit(2) from None
    except RecursionError:
        # json.loads recurses once per nesting level; a canonical report nests four deep
        _error_line(f"{path} nests too deeply to be a canonical report")
        raise typer.Exit(2) from None
    if not isinstance(data, dict):
        _error_line(f"{path} is not a canonical report (expected a JSON object)")
        raise typer.Exit(2)
    extras = {key: data.pop(key) for key in ("findings", "evidence", "meta", "source_text") if key in data}
    try:
        return Report.model_validate(data), extras
    except ValidationError as exc:
        err.print(f"[bold red]error:[/] {path} is not a canonical report:\n{exc}")
        raise typer.Exit(2) from None
    except RecursionError:
        _error_line(f"{path} nests too deeply to be a canonical report")
        raise typer.Exit(2) from None


def _against_previous(report: Report, doubted: frozenset[str], previous_path: Path) -> list[Finding]:
    previous, extras = _read_report_json(previous_path)
    if report.year is None or previous.year is None or report.year - previous.year != 1:
        err.print(f"[yellow]note:[/] --previous {previous_path} is of year {previous.year}, this report of "
                  f"{report.year}: R-Y1/R-Y2 compare consecutive years only, skipped")
        return []
    if report.agency and previous.agency and agency_key(report.agency) != agency_key(previous.agency):
        err.print(f"[yellow]note:[/] comparing {report.agency} with {previous.agency} as you asked")
    doubted_before = doubted_cells_of_json(extras.get("findings") or [], extras.get("evidence") or {})
    earlier = YearReport(key=str(previous_path), report=previous, doubted=frozenset(doubted_before))
    later = YearReport(key="this report", report=report, doubted=doubted)
    return check_year_pair(earlier, later)


def check(
    report_json: Annotated[Path, typer.Argument(help="Canonical report JSON (as `extract --json` writes it).")],
    source: Annotated[Optional[str], typer.Option("--source", help="The report's source text, for grounding.")] = None,
    previous: Annotated[Optional[Path], typer.Option(
        "--previous", help="The same agency's report of the year before (canonical JSON), for R-Y1/R-Y2.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Run grounding and the checker on an existing canonical report."""
    report, _ = _read_report_json(report_json)
    text: str | None = None
    if source:
        try:
            text = load_path(source).text
        except NianbaoError as exc:
            _fail(exc)
    findings, evidence = recheck(report, text)
    if previous is not None:
        findings += _against_previous(report, frozenset(doubted_cells(findings, evidence)), previous)
    result = ExtractionResult(report=report, findings=findings, evidence=evidence, source_text=text or "",
                              source_sha256=sha256_text(text or ""), meta={"engine": "check"})
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        print_result(result)


def rules(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every rule the checker runs (extractor/rules.py): id, kind, authority, where it is stated."""
    from extractor.rules import ALL_RULES

    if as_json:
        print(json.dumps([{"id": r.id, "kind": r.kind, "authority": r.authority, "spec": r.spec, "zh": r.zh, "en": r.en}
                          for r in ALL_RULES], ensure_ascii=False, indent=1))
        return
    table = Table(title="核查规则 checker rules")
    for column in ("规则 rule", "类别 kind", "依据 authority", "出处 stated in", "说明 what it checks"):
        table.add_column(column)
    for r in ALL_RULES:
        table.add_row(r.id, r.kind, r.authority, r.spec, f"{r.zh}\n[dim]{r.en}[/]")
    Console().print(table)


def schema() -> None:
    """Print the JSON Schema of the canonical report."""
    sys.stdout.write(json.dumps(Report.model_json_schema(), ensure_ascii=False, indent=1) + "\n")


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
    app.command("check")(check)
    app.command("rules")(rules)
    app.command("schema")(schema)
