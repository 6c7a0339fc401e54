"""The ``nianbao`` command line. ``main(argv) -> int`` so tests call it without a subprocess."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

app = typer.Typer(
    name="nianbao",
    help="nianbao (年报): read 政府信息公开工作年度报告 into verified, typed data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each shell registers its own commands; a module that is missing leaves the rest working.
_PLUGINS = (
    "extractor.core_commands",
    "extractor.backends.cli",
    "extractor.batch.cli",
    "evals.cli",
    "ui.cli",
)


def _register_plugins() -> None:
    for name in _PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.register(app)


_register_plugins()


def _usage_errors() -> tuple[type[Any], ...]:
    # click's usage errors (bad or missing option), and typer's own copies of them: typer from 0.2x
    # vendors click, and its ClickException derives from typer.TyperException instead
    import click

    return (click.exceptions.ClickException,) + ((typer.TyperException,) if hasattr(typer, "TyperException") else ())


def _aborts() -> tuple[type[BaseException], ...]:
    import click

    return (click.exceptions.Abort, typer.Abort)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code instead of exiting."""
    try:
        rv = app(args=argv if argv is not None else sys.argv[1:], standalone_mode=False)
        if isinstance(rv, int):
            return rv
    except SystemExit as exc:  # typer.Exit inside commands
        return int(exc.code or 0)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except Exception as exc:  # click usage errors and the like
        if isinstance(exc, _usage_errors()):
            exc.show()
            return int(exc.exit_code)
        if isinstance(exc, _aborts()):
            typer.echo("Aborted.", err=True)
            return 130
        raise
    return 0


def run() -> None:
    sys.exit(main())
