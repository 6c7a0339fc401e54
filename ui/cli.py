"""``nianbao ui``: start the review app."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from extractor.engine_catalog import REVIEW_ENGINES, EngineName, engine_option_parser, engines_help
from extractor.errors import NianbaoError


def default_db_path() -> Path:
    """NIANBAO_UI_DB, else $XDG_DATA_HOME/nianbao/reviews.sqlite (~/.local/share/...)."""
    if os.environ.get("NIANBAO_UI_DB"):
        return Path(os.environ["NIANBAO_UI_DB"])
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "nianbao" / "reviews.sqlite"


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui_command(
        host: str = typer.Option("127.0.0.1", help="Address to listen on. Keep 127.0.0.1 unless you set a login."),
        port: int | None = typer.Option(None, help="Port (default: Gradio's, 7860 or the next free one)."),
        db: Path | None = typer.Option(None, help="SQLite file of confirmed records (default: NIANBAO_UI_DB or "
                                                  "~/.local/share/nianbao/reviews.sqlite)."),
        engine: EngineName = typer.Option("template", parser=engine_option_parser(REVIEW_ENGINES),
                                          help=f"Default engine shown in the UI: {engines_help(REVIEW_ENGINES)}."),
        batch: Path | None = typer.Option(None, help="Open on the review queue of this batch folder (the --out of "
                                                      "`nianbao batch`, holding results.jsonl)."),
    ) -> None:
        """Start the review UI (审核界面): paste a report or work through a batch's queue, check the evidence,
        correct, confirm."""
        from extractor.review_store import ReviewStore
        from ui.app import auth_from_env, build_app, launch
        from ui.queue import QueueService
        from ui.service import ReviewService

        try:
            auth = auth_from_env()
            if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
                typer.echo("warning: listening beyond localhost without a login; set NIANBAO_UI_USER and "
                           "NIANBAO_UI_PASSWORD to require one", err=True)
            batch_dir = str(QueueService.batch_dir(batch)) if batch is not None else None
            db_path = db or default_db_path()
            service = ReviewService(ReviewStore(db_path), default_engine=engine)
            typer.echo(f"nianbao ui: records in {db_path}" + (f"; review queue of {batch_dir}" if batch_dir else ""),
                       err=True)
            launch(build_app(service, batch_dir=batch_dir), host=host, port=port)
        except NianbaoError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from exc
