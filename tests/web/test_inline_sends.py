"""On SQLite, send batches are written on the event loop's own thread (`sending._send_inline`),
which must never wait for the database: when another writer holds the lock, the batch goes to
a worker thread and the server keeps answering meanwhile."""

from __future__ import annotations

from tests.web.conftest import Api

from shopdesk.web.api.conversations import send_committer


def test_sqlite_batches_are_written_inline_and_postgres_ones_on_a_thread(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    for i in range(3):
        assert api.send("buyer1", conv, f"message {i}").status_code == 201
    committer = send_committer(api.client.app)
    assert committer.batches == 3
    sqlite = api.client.app.state.settings.resolved_database_url().startswith("sqlite")  # type: ignore[attr-defined]
    assert committer.inline_batches == (3 if sqlite else 0)
