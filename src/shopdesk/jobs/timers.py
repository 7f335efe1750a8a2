"""Durable timers, fired exactly once.

A runner claims due timers and runs their handler in the same transaction that marks them
fired, so a handler's effects and the "fired" mark commit together or not at all. On
PostgreSQL several runners claim concurrently with `FOR UPDATE SKIP LOCKED`; SQLite serialises
writers, so one runner per database is the rule there (the database lock still prevents a
double fire).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shopdesk.store.models import Timer

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=30)
MAX_ATTEMPTS = 5

Handler = Callable[[Session, Timer, datetime], None]


class TimerError(Exception):
    pass


def arm(
    session: Session, *, kind: str, key: str, due_at: datetime, now: datetime,
    payload: dict[str, Any] | None = None,
) -> Timer:
    """Schedule a timer; arming the same key again moves its due time (if not yet fired)."""
    existing = session.scalars(select(Timer).where(Timer.key == key)).first()
    if existing is not None:
        if existing.fired_at is None:
            existing.due_at = due_at
            existing.cancelled_at = None
            if payload is not None:
                existing.payload = payload
        return existing
    timer = Timer(kind=kind, key=key, due_at=due_at, payload=payload or {}, created_at=now,
                  attempts=0)
    try:
        with session.begin_nested():
            session.add(timer)
    except IntegrityError:  # armed concurrently by another process
        return session.scalars(select(Timer).where(Timer.key == key)).one()
    return timer


def cancel(session: Session, key: str, now: datetime) -> bool:
    timer = session.scalars(select(Timer).where(Timer.key == key)).first()
    if timer is None or timer.fired_at is not None or timer.cancelled_at is not None:
        return False
    timer.cancelled_at = now
    return True


@dataclass
class RunReport:
    fired: int = 0
    failed: int = 0


class TimerRunner:
    def __init__(
        self, sessions: sessionmaker[Session], handlers: dict[str, Handler], *, name: str,
        batch: int = 50,
    ) -> None:
        self.sessions = sessions
        self.handlers = handlers
        self.name = name
        self.batch = batch

    def run_due(self, now: datetime) -> RunReport:
        """Fire every timer due at `now`; each in its own transaction."""
        report = RunReport()
        while True:
            fired_any = False
            for _ in range(self.batch):
                outcome = self._fire_one(now)
                if outcome is None:
                    break
                fired_any = True
                if outcome:
                    report.fired += 1
                else:
                    report.failed += 1
            if not fired_any:
                return report

    def _fire_one(self, now: datetime) -> bool | None:
        timer_id: int | None = None
        with self.sessions() as session:
            try:
                with session.begin():
                    timer = session.scalars(
                        select(Timer)
                        .where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None),
                               Timer.due_at <= now, Timer.attempts < MAX_ATTEMPTS)
                        .order_by(Timer.due_at, Timer.id)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    ).first()
                    if timer is None:
                        return None
                    timer_id = timer.id
                    handler = self.handlers.get(timer.kind)
                    if handler is None:
                        raise TimerError(f"no handler for timer kind '{timer.kind}'")
                    handler(session, timer, now)
                    timer.attempts += 1
                    timer.fired_at = now
                    timer.fired_by = self.name
                    return True
            except Exception as exc:
                if timer_id is None:
                    raise
                # The handler's effects were rolled back with the transaction; record the
                # failure on its own and back off, so one broken timer cannot starve others.
                log.exception("timer %s failed", timer_id)
                with session.begin():
                    failed = session.get(Timer, timer_id, with_for_update=True)
                    if failed is not None and failed.fired_at is None:
                        failed.attempts += 1
                        failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                        failed.due_at = now + RETRY_BASE * 2 ** (failed.attempts - 1)
                return False
