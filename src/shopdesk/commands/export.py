"""`shopdesk export-events`: the live history as a CONTRACTS §1 event log."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        err.print(f"[red]error:[/] {name} '{value}' is not an ISO 8601 instant")
        raise typer.Exit(2) from exc
    if parsed.tzinfo is None:
        err.print(f"[red]error:[/] {name} '{value}' needs an offset or Z")
        raise typer.Exit(2)
    return parsed


def export_events(
    output: Annotated[Path | None, typer.Argument(help="file to write; default stdout")] = None,
    shop: Annotated[list[int] | None, typer.Option(help="only these shop ids")] = None,
    since: Annotated[str | None, typer.Option(help="only events at or after this instant")] = None,
    until: Annotated[str | None, typer.Option(help="only events at or before this instant")] = None,
) -> None:
    """Write the database's shops, switches, messages, events and ratings as JSON Lines."""
    from shopdesk.config import Settings
    from shopdesk.store.db import make_engine, make_sessionmaker
    from shopdesk.store.events_export import export_events as produce

    start, end = _instant(since, "--since"), _instant(until, "--until")
    settings = Settings()
    engine = make_engine(settings.resolved_database_url())
    stream = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        with make_sessionmaker(engine)() as db:
            for event in produce(db, shop_ids=shop or None, since=start, until=end):
                stream.write(json.dumps(event, ensure_ascii=False) + "\n")
    finally:
        if output:
            stream.close()
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("export-events")(export_events)
