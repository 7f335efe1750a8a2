"""The `shopdesk` command (CONTRACTS §2–§4, §6)."""

from __future__ import annotations

import typer

from shopdesk.commands import register_all

app = typer.Typer(
    name="shopdesk",
    help="shopdesk: customer service for marketplaces.",
    no_args_is_help=True,
    add_completion=False,
)
register_all(app)

if __name__ == "__main__":  # pragma: no cover
    app()
