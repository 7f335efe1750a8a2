"""`shopdesk evaluate` (CONTRACTS §2): service metrics of every shop in an event log."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shopdesk.policy.evaluate_reference import evaluate_log
from shopdesk.policy.jsonl import EventLogError, parse_instant, read_events
from shopdesk.policy.profiles import ProfileError, load_profile
from shopdesk.policy.report import report_to_json


class OutputFormat(StrEnum):
    json = "json"
    table = "table"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _fmt(x: object) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.1%}" if x <= 1 else f"{x:.0f}"
    return str(x)


def _print_table(report: dict[str, object], explain: bool) -> None:
    console = Console(width=None if sys.stdout.isatty() else 200)
    table = Table(title=f"shopdesk evaluate — policy {report['policy']} at {report['at']}")
    for col in ("shop", "window", "buyer msgs", "sessions", "counted", "pending",
                "in time", "response", "ratings", "satisfaction", "FRT median s", "outcome"):
        table.add_column(col)
    shops = report["shops"]
    assert isinstance(shops, list)
    for s in shops:
        w = s["window"]
        table.add_row(
            s["shop"], f"{w['start']} → {w['end']}", str(s["buyer_messages"]),
            str(s["sessions"]), str(s["counted"]), str(s["pending"]),
            str(s["answered_in_time"]), _fmt(s["response_rate"]), str(s["ratings"]),
            _fmt(s["satisfaction_rate"]),
            "—" if s["first_response_median_s"] is None
            else f"{s['first_response_median_s']:.0f}",
            s["outcome"],
        )
    console.print(table)
    if explain:
        for s in shops:
            detail = Table(title=f"sessions of {s['shop']}")
            for col in ("conversation", "start", "deadline", "status", "first reply", "by"):
                detail.add_column(col)
            for d in s["sessions_detail"]:
                detail.add_row(d["conversation"], d["start"], d["deadline"], d["status"],
                               d["first_reply_at"] or "—", d["first_reply_by"] or "—")
            console.print(detail)


def evaluate_command(
    events: Path = typer.Argument(..., help="event log, JSON Lines (CONTRACTS §1)"),
    policy: str = typer.Option(..., "--policy", help="us, cross-border or a profile file"),
    at: str = typer.Option(..., "--at", help="ISO 8601 instant with offset"),
    shop: str | None = typer.Option(None, "--shop", help="evaluate only this shop"),
    explain: bool = typer.Option(False, "--explain", help="show every session"),
    fmt: OutputFormat | None = typer.Option(
        None, "--format", help="json (default when not a terminal) or table"
    ),
) -> None:
    """Evaluate response and satisfaction rates (SPEC §5, §6, §13)."""
    try:
        profile = load_profile(policy)
    except ProfileError as exc:
        _fail(str(exc))
    try:
        instant = parse_instant(at, "--at")
    except ValueError as exc:
        _fail(str(exc))
    try:
        with events.open(encoding="utf-8") as fh:
            result = read_events(fh)
    except OSError as exc:
        _fail(f"cannot read {events}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"{events}: not UTF-8 text")
    except EventLogError as exc:
        _fail(f"{events}: {exc}")
    for warning in result.warnings:
        typer.echo(warning, err=True)
    shops = evaluate_log(result.events, profile, instant, shop=shop, explain=explain)
    report = report_to_json(profile.name, instant, shops, explain)
    chosen = fmt or (OutputFormat.table if sys.stdout.isatty() else OutputFormat.json)
    if chosen is OutputFormat.table:
        _print_table(report, explain)
    else:
        typer.echo(json.dumps(report, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
