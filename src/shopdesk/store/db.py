"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_conn: Any, busy_timeout_ms: int, autocheckpoint: bool) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers proceed while one writer commits; foreign keys are off by default.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    if not autocheckpoint:
        cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            _sqlite_pragmas(dbapi_conn, 30_000, autocheckpoint=True)

        return engine
    if "poolclass" not in kwargs:
        # No pre-ping (a SELECT 1 round trip on every checkout): a connection the server
        # dropped fails its statement instead, the pool then replaces every connection made
        # before, and the chat's send path retries its batch send by send. Connections are
        # renewed after 30 minutes, before idle-connection killers usually strike.
        kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
    return create_engine(url, **kwargs)


def make_inline_writer(url: str) -> Engine | None:
    """For SQLite, an engine of one connection for writes done on the event loop's own
    thread, which must never wait: its transactions take the write lock as they begin
    (BEGIN IMMEDIATE) and fail at once when another connection holds it (busy timeout 0),
    so that the caller can do the work on a thread instead; and its commits never
    checkpoint the WAL (an fsync), which `checkpoint` does on a thread. None for other
    databases: their statements wait on the network, which a thread does better."""
    if not url.startswith("sqlite"):
        return None
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=1, max_overflow=0,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_conn, 0, autocheckpoint=False)
        dbapi_conn.isolation_level = None  # the driver's implicit BEGIN off: see _begin

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def checkpoint(engine: Engine) -> None:
    """Copy committed WAL pages into the SQLite database file, without waiting for readers
    or writers (PASSIVE); a no-op elsewhere."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session
