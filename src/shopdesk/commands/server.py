"""`shopdesk demo`, `serve`, `db upgrade`, `user create` (CONTRACTS §6)."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shopdesk.config import Settings

err = Console(stderr=True)
out = Console()

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)


def _settings(**overrides: object) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


def _run(settings: Settings) -> None:
    import uvicorn

    from shopdesk.web.app import create_app, warm_up

    app = create_app(settings)
    warm_up(app)
    # No per-request access log line (it costs more CPU than some requests); uvloop and
    # httptools are chosen when installed (uvicorn's "auto"), as they are with our lock file.
    uvicorn.run(app, host=settings.host, port=settings.port,
                log_level="info", proxy_headers=True, access_log=False,
                loop="auto", http="auto")


def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="where the SQLite database lives")] = Path("var"),
    seed_only: Annotated[bool, typer.Option(help="seed and exit without serving")] = False,
) -> None:
    """Create (or reuse) the demo marketplace in a SQLite database and serve it."""
    from shopdesk.store.demo import DemoRefused, seed_demo
    from shopdesk.store.migrate import upgrade

    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    settings = Settings(
        database_url=f"sqlite:///{(data_dir / 'demo.db').resolve()}",
        secret_key=key_file.read_text().strip(),
        data_dir=data_dir, host=host, port=port, redis_url="",
    )
    upgrade(settings.resolved_database_url())
    try:
        summary = seed_demo(
            settings.resolved_database_url(), now=datetime.now(UTC),
            attachments_dir=settings.attachments_dir,
        )
    except DemoRefused as exc:
        err.print(f"[red]refused:[/] {exc}")
        raise typer.Exit(2) from exc
    table = Table(title="demo logins (password: demo)")
    table.add_column("role")
    table.add_column("usernames")
    for role, names in summary.logins.items():
        table.add_row(role, names)
    out.print(table)
    out.print(summary.describe())
    out.print(f"\n[bold]shopdesk demo:[/] http://{host}:{port}/  (Ctrl-C to stop)")
    if not seed_only:
        _run(settings)


def serve(
    host: Annotated[str | None, typer.Option(help="overrides SHOPDESK_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="overrides SHOPDESK_PORT")] = None,
) -> None:
    """Run the production server; configuration from SHOPDESK_* variables or .env."""
    settings = _settings(host=host, port=port)
    if not settings.secret_key:
        err.print("[red]refused:[/] set SHOPDESK_SECRET_KEY (a long random string) first")
        raise typer.Exit(2)
    _run(settings)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply database migrations (SHOPDESK_DATABASE_URL or SQLite under SHOPDESK_DATA_DIR)."""
    from shopdesk.store.migrate import upgrade

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url(), revision)
    out.print(f"database at {revision}")


@user_app.command("create")
def user_create(
    username: str,
    kind: Annotated[str, typer.Option(help="buyer, seller or staff")] = "buyer",
    shop: Annotated[int | None, typer.Option(help="shop id, for sellers")] = None,
    role: Annotated[str, typer.Option(help="owner, admin or agent, with --shop")] = "agent",
    password: Annotated[str | None, typer.Option(
        help="default: read SHOPDESK_NEW_PASSWORD or prompt")] = None,
) -> None:
    """Create a user (and, for sellers, their membership in a shop)."""
    from shopdesk.store.accounts import AccountError, audit, create_user
    from shopdesk.store.db import make_engine, make_sessionmaker
    from shopdesk.store.models import Membership, Shop

    if kind == "seller" and shop is None:
        err.print("[red]error:[/] a seller needs --shop")
        raise typer.Exit(2)
    if role not in ("owner", "admin", "agent"):
        err.print("[red]error:[/] --role must be owner, admin or agent")
        raise typer.Exit(2)
    pw = password or os.environ.get("SHOPDESK_NEW_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    engine = make_engine(settings.resolved_database_url())
    now = datetime.now(UTC)
    try:
        with make_sessionmaker(engine)() as db, db.begin():
            if shop is not None and db.get(Shop, shop) is None:
                raise AccountError(f"no shop with id {shop}")
            user = create_user(db, username=username, password=pw, kind=kind, now=now)
            if shop is not None:
                db.add(Membership(user_id=user.id, shop_id=shop, role=role))
            audit(db, None, "user.create", "user", user.id, now=now, via="cli", kind=kind)
            uid = user.id
    except AccountError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    out.print(f"created {kind} '{username}' (id {uid})")


def register(app: typer.Typer) -> None:
    app.command()(demo)
    app.command()(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
