"""SQLite's inline writer (`store.db.make_inline_writer`, `sending._send_inline`): it never
waits for the database on the event loop. These tests run on SQLite only: PostgreSQL has no
inline writer (`test_inline_sends` checks that its batches go to a thread)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from tests.web.conftest import Api

from shopdesk.store.db import make_inline_writer, make_sessionmaker
from shopdesk.web.api import sending
from shopdesk.web.api.conversations import send_committer


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


def _sqlite_file(api: Api) -> str:
    url: str = api.client.app.state.settings.resolved_database_url()  # type: ignore[attr-defined]
    return url.removeprefix("sqlite:///")


def test_a_send_waits_for_another_writer_on_a_thread_not_on_the_event_loop(api: Api) -> None:
    path = _sqlite_file(api)
    conv = api.open_conversation("buyer1", "a")
    assert api.send("buyer1", conv, "before").status_code == 201
    committer = send_committer(api.client.app)
    inline_before = committer.inline_batches
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    result: list[Any] = []
    sender = threading.Thread(target=lambda: result.append(api.send("buyer1", conv, "during")))
    try:
        sender.start()
        time.sleep(0.3)
        assert sender.is_alive() and not result  # the send waits for the lock ...
        started = time.monotonic()
        health = api.client.get("/api/v1/health")  # ... but not on the event loop
        assert health.status_code == 200 and time.monotonic() - started < 1.0
    finally:
        other.execute("COMMIT")
        other.close()
    sender.join(30)
    assert result and result[0].status_code == 201, result
    assert result[0].json()["seq"] == 2
    assert committer.inline_batches == inline_before  # that batch went to the thread
    assert api.send("buyer1", conv, "after").status_code == 201
    assert committer.inline_batches == inline_before + 1  # and the next one inline again
    texts = [m["text"] for m in api.get("buyer1", f"/api/v1/conversations/{conv}/messages").json()]
    assert texts == ["before", "during", "after"]


def test_checkpoints_are_left_to_a_thread(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _sqlite_file(api)
    calls: list[str] = []
    monkeypatch.setattr(sending, "checkpoint",
                        lambda engine: calls.append(threading.current_thread().name))
    api.client.app.state.checkpoint_due = 0.0  # type: ignore[attr-defined]
    conv = api.open_conversation("buyer1", "a")
    for i in range(5):
        assert api.send("buyer1", conv, f"message {i}").status_code == 201
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    # One checkpoint for sends within a second of each other, not on the loop's thread.
    assert len(calls) == 1
    loop_thread = api.client.portal.call(lambda: threading.current_thread().name)  # type: ignore[union-attr]
    assert calls[0] != loop_thread


def test_the_inline_writer_fails_at_once_rather_than_wait(api: Api) -> None:
    path = _sqlite_file(api)
    engine = make_inline_writer(f"sqlite:///{path}")
    assert engine is not None
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), \
                make_sessionmaker(engine)() as db, db.begin():
            db.connection()
        assert time.monotonic() - started < 1.0
    finally:
        other.execute("ROLLBACK")
        other.close()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    engine.dispose()
    assert make_inline_writer("postgresql+psycopg://nobody@127.0.0.1/none") is None
