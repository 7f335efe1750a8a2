"""Request-scoped pieces: the database session, the clock, and who is calling."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from shopdesk.config import Settings
from shopdesk.store.access import Actor
from shopdesk.store.accounts import TokenCache, actor_for
from shopdesk.store.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthError(Exception):
    def __init__(self, message: str, status: int = 401, code: str = "unauthenticated") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def utcnow() -> datetime:
    return datetime.now(UTC)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


def get_db(request: Request) -> Iterator[Session]:
    """A session in a transaction, committed when the endpoint returns. Used with
    `scope="function"`: by default FastAPI runs a dependency's exit after the response has
    been sent, so a client could be told "created" before the commit, or before a failed
    commit, and read the old state with its next request."""
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


_TOKEN_CACHE_LOCK = threading.Lock()


def _token_cache(request: Request) -> TokenCache:
    """The app's cache of resolved tokens (see `shopdesk.store.accounts.TokenCache`)."""
    state = request.app.state
    cache: TokenCache | None = getattr(state, "token_cache", None)
    if cache is None:
        with _TOKEN_CACHE_LOCK:
            cache = getattr(state, "token_cache", None)
            if cache is None:
                cache = state.token_cache = TokenCache()
    return cache


def resolve_actor(session: Session, request: Request, now: datetime) -> Actor:
    return resolve_caller(session, request, now)[0]


def resolve_caller(session: Session, request: Request, now: datetime) -> tuple[Actor, str]:
    """Who is calling, and their display name."""
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise AuthError("use 'Authorization: Bearer <token>'")
        caller = _token_cache(request).resolve(session, secret.strip(), now)
        if caller is None:
            raise AuthError("the token is invalid, expired or revoked")
        return caller.actor, caller.display_name
    user_id = request.session.get("user_id") if "session" in request.scope else None
    if user_id is None:
        raise AuthError("log in or send 'Authorization: Bearer <token>'")
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        request.session.clear()
        raise AuthError("your session has ended; log in again")
    if request.method not in SAFE_METHODS:
        expected = request.session.get("csrf")
        sent = request.headers.get("x-csrf-token", "")
        if not expected or not secrets.compare_digest(expected, sent):
            raise AuthError("missing or wrong X-CSRF-Token header", 403, "csrf_failed")
    return actor_for(session, user), user.display_name


def current_actor(
    request: Request,
    session: Annotated[Session, Depends(get_db, scope="function")],
    clock: Annotated[Callable[[], datetime], Depends(get_clock)],
) -> Actor:
    return resolve_actor(session, request, clock())


DB = Annotated[Session, Depends(get_db, scope="function")]
CurrentActor = Annotated[Actor, Depends(current_actor)]
Clock = Annotated[Callable[[], datetime], Depends(get_clock)]
AppSettings = Annotated[Settings, Depends(get_settings)]
