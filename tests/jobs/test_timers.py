"""Durable timers fire exactly once, across restarts and concurrent runners."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdesk.jobs.timers import TimerRunner, arm, cancel
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.migrate import upgrade
from shopdesk.store.models import AuditEntry, Timer
from tests.web.conftest import database_url, private_postgres  # noqa: F401  (fixtures)

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def record(session: Session, timer: Timer, now: datetime) -> None:
    session.add(AuditEntry(at=now, actor_id=None, token_id=None, action="timer.fired",
                           target_type="timer", target_id=timer.key, shop_id=None, details={}))


def fired_keys(factory: object) -> list[str]:
    with factory() as db:  # type: ignore[operator]
        return sorted(db.scalars(select(AuditEntry.target_id)))


@pytest.fixture
def factory(database_url: str):  # type: ignore[no-untyped-def]  # noqa: F811
    upgrade(database_url)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_timer_fires_once_when_due_and_not_before(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as db, db.begin():
        arm(db, kind="rec", key="k1", due_at=T0 + timedelta(hours=1), now=T0)
    runner = TimerRunner(factory, {"rec": record}, name="r1")
    assert runner.run_due(T0 + timedelta(minutes=59)).fired == 0
    assert runner.run_due(T0 + timedelta(hours=1)).fired == 1
    assert runner.run_due(T0 + timedelta(hours=2)).fired == 0
    assert fired_keys(factory) == ["k1"]


def test_restart_catches_up_missed_timers_exactly_once(database_url: str) -> None:  # noqa: F811
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as db, db.begin():
        for i in range(3):
            arm(db, kind="rec", key=f"k{i}", due_at=T0 + timedelta(hours=i), now=T0)
    engine.dispose()  # the server "goes down" before any timer is due
    for _restart in range(2):  # comes back (twice) long after they were all due
        engine = make_engine(database_url)
        factory = make_sessionmaker(engine)
        TimerRunner(factory, {"rec": record}, name="after-restart").run_due(T0 + timedelta(days=1))
        engine.dispose()
    engine = make_engine(database_url)
    assert fired_keys(make_sessionmaker(engine)) == ["k0", "k1", "k2"]
    engine.dispose()


def test_arming_the_same_key_moves_it_and_cancel_stops_it(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as db, db.begin():
        arm(db, kind="rec", key="a", due_at=T0, now=T0)
        arm(db, kind="rec", key="a", due_at=T0 + timedelta(hours=5), now=T0)
        arm(db, kind="rec", key="b", due_at=T0, now=T0)
        assert cancel(db, "b", T0) is True
        assert cancel(db, "missing", T0) is False
    runner = TimerRunner(factory, {"rec": record}, name="r")
    assert runner.run_due(T0 + timedelta(hours=1)).fired == 0
    assert runner.run_due(T0 + timedelta(hours=5)).fired == 1
    assert fired_keys(factory) == ["a"]


def test_failing_handler_rolls_back_its_effects_and_retries(factory) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def flaky(session: Session, timer: Timer, now: datetime) -> None:
        record(session, timer, now)
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("downstream unavailable")

    with factory() as db, db.begin():
        arm(db, kind="flaky", key="f", due_at=T0, now=T0)
    runner = TimerRunner(factory, {"flaky": flaky}, name="r")
    assert runner.run_due(T0).failed == 1
    assert fired_keys(factory) == []  # the failed attempt's effects were rolled back
    with factory() as db:
        t = db.scalars(select(Timer)).one()
        assert t.fired_at is None and "downstream unavailable" in (t.last_error or "")
    assert runner.run_due(T0 + timedelta(minutes=1)).fired == 1
    assert fired_keys(factory) == ["f"]


def test_unknown_kind_is_recorded_not_fired(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as db, db.begin():
        arm(db, kind="nobody-handles-this", key="x", due_at=T0, now=T0)
    report = TimerRunner(factory, {}, name="r").run_due(T0)
    assert (report.fired, report.failed) == (0, 1)
    with factory() as db:
        assert "no handler" in (db.scalars(select(Timer)).one().last_error or "")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_runners_fire_each_timer_once(database_url: str) -> None:  # noqa: F811
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    with factory() as db, db.begin():
        for i in range(60):
            arm(db, kind="rec", key=f"k{i:02d}", due_at=T0, now=T0)
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        barrier.wait()
        TimerRunner(factory, {"rec": record}, name=f"r{n}").run_due(T0)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    keys = fired_keys(factory)
    assert keys == [f"k{i:02d}" for i in range(60)]  # each exactly once
    with factory() as db:
        runners = set(db.scalars(select(Timer.fired_by)))
    assert len(runners) > 1, "the runners should have shared the work"
    engine.dispose()
