"""The FastAPI application: API under /api/v1, WebSocket push, server-rendered pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from shopdesk import __version__
from shopdesk.chat.broker import Broker, make_broker
from shopdesk.chat.service import Screener
from shopdesk.config import Settings
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.web import errors, pages, ws
from shopdesk.web.api import attachments, auth, conversations, shops, tickets
from shopdesk.web.api import health as account_health
from shopdesk.web.deps import utcnow

STATIC = Path(__file__).with_name("static")


class BodyLimit:
    """Refuse oversized request bodies before they are read into memory."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].endswith("/attachments") else self.limit
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    import json

    body = json.dumps({"code": "payload_too_large",
                       "message": f"request bodies are limited to {limit:,} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    broker: Broker | None = None,
    screener: Screener | None = None,
) -> FastAPI:
    if not settings.secret_key:
        raise ValueError("SHOPDESK_SECRET_KEY is required to sign sessions")
    engine = make_engine(settings.resolved_database_url())
    the_broker = broker or make_broker(settings.redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await the_broker.start()
        try:
            yield
        finally:
            await the_broker.stop()
            engine.dispose()

    app = FastAPI(
        title="shopdesk", version=__version__, lifespan=lifespan,
        openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.clock = clock
    app.state.broker = the_broker
    app.state.screener = screener if screener is not None else default_screener()
    settings.attachments_dir.mkdir(parents=True, exist_ok=True)

    errors.install(app)

    @app.get("/api/v1/health", tags=["health"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__,
                "broker": type(the_broker).__name__, "database": engine.dialect.name}

    for router in (auth.router, shops.router, conversations.router, attachments.router,
                   tickets.router, account_health.router):
        app.include_router(router, prefix="/api/v1")
    app.include_router(ws.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(
        SessionMiddleware, secret_key=settings.secret_key, session_cookie="shopdesk_session",
        same_site="lax", https_only=settings.cookie_secure, max_age=14 * 24 * 3600,
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       upload_limit=settings.max_attachment_bytes + 64 * 1024)
    return app


def default_screener() -> Screener | None:
    """The screening engine on the send path, when it is installed (issue 4)."""
    try:
        from shopdesk.web.screening import make_screener
    except ImportError:
        return None
    return make_screener()
