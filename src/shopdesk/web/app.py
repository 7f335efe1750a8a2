"""The FastAPI application: API under /api/v1, WebSocket push, server-rendered pages."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from shopdesk import __version__
from shopdesk.chat.broker import Broker, make_broker
from shopdesk.chat.service import Screener
from shopdesk.config import Settings
from shopdesk.jobs.loop import TimerLoop
from shopdesk.jobs.registry import handlers
from shopdesk.store.casework_repo import broker_publisher
from shopdesk.store.db import make_engine, make_inline_writer, make_sessionmaker
from shopdesk.web import errors, pages, pages_office, ws
from shopdesk.web.api import (
    attachments,
    auth,
    casework,
    conversations,
    diagnosis,
    knowledge,
    orders,
    reviews,
    shops,
    tickets,
)
from shopdesk.web.api import health as account_health
from shopdesk.web.deps import utcnow
from shopdesk.web.limits import BodyLimit
from shopdesk.web.screening import check_text, make_screener
from shopdesk.web.send_path import SendFastPath

STATIC = Path(__file__).with_name("static")


def warm_up(app: FastAPI) -> None:
    """For a serving process, before it serves: build what the first requests would
    otherwise build (the screening gate's Hyperscan databases take 1-3 s of CPU), then
    exempt everything alive now from garbage collection. A full collection walks every
    tracked object — ~0.3 s with the screening engine and the routes — and one during
    traffic would stall every request and push for that long; after the freeze it walks
    only what was made since."""
    from shopdesk.screening.gate import GATE

    GATE.prepare()
    app.state.check_text("warm-up: call me at 555 0100 or mail a@b.example", "seller")
    gc.collect()
    gc.freeze()


def _arm_evaluations(sessions: Any, now: datetime) -> None:
    """Every shop has its next scheduled evaluation armed (idempotent)."""
    from shopdesk.jobs.evaluations import ensure_scheduled

    with sessions() as db, db.begin():
        ensure_scheduled(db, now)


class ShopdeskApp(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # The chat's sends and pushes are handled before every middleware (web.send_path).
        return SendFastPath(super().build_middleware_stack())


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    broker: Broker | None = None,
    screener: Screener | None = None,
    run_timers: bool | None = None,
) -> FastAPI:
    if not settings.secret_key:
        raise ValueError("SHOPDESK_SECRET_KEY is required to sign sessions")
    engine = make_engine(settings.resolved_database_url())
    inline_writer = make_inline_writer(settings.resolved_database_url())
    the_broker = broker or make_broker(settings.redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await the_broker.start()
        # Durable timers (casework deadlines, evaluations). A test's injected clock drives
        # timers explicitly with a TimerRunner instead (run_timers=None: real clock only).
        loop = None
        if (clock is utcnow if run_timers is None else run_timers) and \
                settings.timer_interval_seconds > 0:
            await run_in_threadpool(_arm_evaluations, app.state.sessions, clock())
            loop = TimerLoop(app.state.sessions,
                             handlers(broker_publisher(lambda: app.state.broker)), clock,
                             settings.timer_interval_seconds)
            await loop.start()
        app.state.timer_loop = loop
        try:
            yield
        finally:
            if loop is not None:
                await loop.stop()
            await the_broker.stop()
            engine.dispose()
            if inline_writer is not None:
                inline_writer.dispose()

    app = ShopdeskApp(
        title="shopdesk", version=__version__, lifespan=lifespan,
        openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    # SQLite: the chat's send batches are written on the event loop's thread (web.api.sending)
    app.state.inline_sessions = make_sessionmaker(inline_writer) if inline_writer else None
    app.state.clock = clock
    app.state.broker = the_broker
    app.state.screener = screener if screener is not None else default_screener(settings)
    app.state.check_text = check_text()
    settings.attachments_dir.mkdir(parents=True, exist_ok=True)

    errors.install(app)
    casework.install(app)

    @app.get("/api/v1/health", tags=["health"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__,
                "broker": type(the_broker).__name__, "database": engine.dialect.name}

    # The chat's routes first: FastAPI tries routes in order (an included router's routes
    # twice), and matching the busiest request past every other router cost more CPU than
    # the rest of its handling. No other router's paths overlap them.
    for router in (conversations.router, auth.router, shops.router, attachments.router,
                   tickets.router, account_health.router, diagnosis.router, reviews.router,
                   casework.router, knowledge.router, orders.router):
        app.include_router(router, prefix="/api/v1")
    app.include_router(ws.router)
    app.include_router(pages.router)
    app.include_router(pages_office.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(
        SessionMiddleware, secret_key=settings.secret_key, session_cookie="shopdesk_session",
        same_site="lax", https_only=settings.cookie_secure, max_age=14 * 24 * 3600,
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       upload_limit=settings.max_attachment_bytes + 64 * 1024)
    return app


def default_screener(settings: Settings) -> Screener:
    """The screening engine on the send path (SCR-D1)."""
    return make_screener("us", settings.attachments_dir)
