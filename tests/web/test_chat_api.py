"""Chat through the HTTP API (CONTRACTS §5, CHAT-1…CHAT-9)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from tests.support.world import FakeClock, World
from tests.web.conftest import Api

from shopdesk.chat.service import Draft
from shopdesk.config import Settings
from shopdesk.web.api.conversations import send_committer
from shopdesk.web.app import create_app


def test_health_and_login_contract(api: Api) -> None:
    r = api.client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = api.client.post("/api/v1/auth/token", json={"username": "buyer1", "password": "pw-test"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["access_token"]


def test_wrong_password_is_refused_with_a_message(api: Api) -> None:
    r = api.client.post("/api/v1/auth/token", json={"username": "buyer1", "password": "nope"})
    assert r.status_code == 401
    assert r.json() == {"code": "unauthenticated", "message": "wrong username or password"}


def test_calls_without_token_are_refused(api: Api) -> None:
    r = api.client.get("/api/v1/shops")
    assert r.status_code == 401 and "Bearer" in r.json()["message"]
    r = api.client.get("/api/v1/shops", headers={"Authorization": "Bearer sd_forged"})
    assert r.status_code == 401 and "invalid" in r.json()["message"]


def test_buyer_opens_conversation_once(api: Api) -> None:
    shop = api.world.shops["a"]
    r1 = api.post("buyer1", "/api/v1/conversations", {"shop": shop})
    r2 = api.post("buyer1", "/api/v1/conversations", {"shop": shop})
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["id"] == r2.json()["id"]


def test_idempotent_send_returns_the_same_message(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    first = api.send("buyer1", conv, "Where is my parcel?", client_id="c-1")
    again = api.send("buyer1", conv, "Where is my parcel?", client_id="c-1")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and first.json()["seq"] == 1
    msgs = api.get("buyer1", f"/api/v1/conversations/{conv}/messages").json()
    assert [m["text"] for m in msgs] == ["Where is my parcel?"]


def test_reused_client_id_with_other_text_is_refused(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    api.send("buyer1", conv, "one", client_id="c-9")
    r = api.send("buyer1", conv, "two", client_id="c-9")
    assert r.status_code == 409 and r.json()["code"] == "client_id_reused"


def test_messages_after_seq_in_order(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    for i in range(5):
        api.send("buyer1" if i % 2 == 0 else "agent_a", conv, f"m{i}")
    msgs = api.get("agent_a", f"/api/v1/conversations/{conv}/messages?after_seq=2").json()
    assert [(m["seq"], m["text"]) for m in msgs] == [(3, "m2"), (4, "m3"), (5, "m4")]
    assert msgs[1]["sender"] == "agent" and msgs[0]["sender"] == "buyer"


def test_chat3_seller_cannot_start_or_write_first(api: Api) -> None:
    r = api.post("agent_a", "/api/v1/conversations", {"shop": api.world.shops["a"]})
    assert r.status_code == 403 and r.json()["code"] == "chat3_seller_cannot_initiate"
    assert "CHAT-3" in r.json()["message"]
    conv = api.open_conversation("buyer1", "a")  # opened, but the buyer has not written yet
    r = api.send("agent_a", conv, "Hi! Check out our sale")
    assert r.status_code == 403 and r.json()["code"] == "chat3_no_buyer_contact"
    assert api.get("agent_a", f"/api/v1/conversations/{conv}/messages").json() == []


def test_message_validation_errors_are_clear_and_change_nothing(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    base = f"/api/v1/conversations/{conv}/messages"
    r = api.post("buyer1", base, {"client_id": "x", "kind": "hologram", "text": "hi"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_kind"
    r = api.post("buyer1", base, {"client_id": "x", "kind": "text", "text": "   "})
    assert r.status_code == 422 and r.json()["code"] == "empty_message"
    r = api.post("buyer1", base, {"client_id": "x", "kind": "text", "text": "a" * 4001})
    assert r.status_code == 422 and "at most 4000" in r.json()["message"]
    r = api.post("buyer1", base, {"kind": "text", "text": "no id"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    assert api.get("buyer1", base).json() == []


def test_oversized_body_is_refused(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    r = api.post("buyer1", f"/api/v1/conversations/{conv}/messages",
                 {"client_id": "big", "kind": "text", "text": "x" * 100_000})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_rating_by_buyer_only(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    api.send("buyer1", conv, "hello?")
    assert api.post("buyer1", f"/api/v1/conversations/{conv}/rating", {"stars": 5}).status_code \
        == 201
    r = api.post("buyer1", f"/api/v1/conversations/{conv}/rating", {"stars": 6})
    assert r.status_code == 422 and "1 to 5" in r.json()["message"]
    r = api.post("agent_a", f"/api/v1/conversations/{conv}/rating", {"stars": 1})
    assert r.status_code == 403


# --- sends that arrive together share one transaction (group commit) -------------------------


class HoldingScreener:
    """Holds the first send inside its batch until released, so the sends that arrive meanwhile
    are taken together by the next batch; optionally crashes (not a refusal) on one text."""

    def __init__(self, crash_on: str = "", crashes: int = 0) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.first = True
        self.crash_on, self.crashes = crash_on, crashes

    def __call__(self, session: Any, draft: Draft, actor: Any, conv: Any) -> None:
        if self.first:
            self.first = False
            self.entered.set()
            assert self.release.wait(20)
        if draft.text == self.crash_on and self.crashes > 0:
            self.crashes -= 1
            raise RuntimeError("the screening engine crashed")


@contextmanager
def held_app(settings: Settings, world: World, clock: FakeClock, screener: HoldingScreener
             ) -> Iterator[Api]:
    app = create_app(settings, clock=clock, screener=screener)
    # Batches on the committer's worker thread, as on PostgreSQL: holding one there keeps
    # the event loop free to queue the next sends (an inline batch holds the loop itself).
    app.state.inline_sessions = None
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, world)


def send_as_one_batch(api: Api, screener: HoldingScreener,
                      sends: list[tuple[str, int, str, str]]) -> list[Any]:
    """The first send is held in its batch; the others are queued one after the other (so
    in this order) meanwhile, then everything is released. Returns the responses in order."""
    committer = send_committer(api.client.app)
    results: list[Any] = [None] * len(sends)

    def run(i: int) -> None:
        who, conv, text, cid = sends[i]
        results[i] = api.send(who, conv, text, client_id=cid)

    threads = [threading.Thread(target=run, args=(0,))]
    threads[0].start()
    assert screener.entered.wait(20)
    for i in range(1, len(sends)):
        threads.append(threading.Thread(target=run, args=(i,)))
        threads[-1].start()
        deadline = time.monotonic() + 20
        while committer.queued < i and time.monotonic() < deadline:
            time.sleep(0.005)
        assert committer.queued == i
    screener.release.set()
    for t in threads:
        t.join(30)
    return results


def test_sends_arriving_together_share_a_batch_with_refusals_and_replays_kept_apart(
    settings: Settings, world: World, clock: FakeClock
) -> None:
    screener = HoldingScreener()
    with held_app(settings, world, clock, screener) as api:
        conv = api.open_conversation("buyer1", "a")
        untouched = api.open_conversation("buyer2", "a")  # buyer2 has not written (CHAT-3)
        with api.client.websocket_connect(f"/api/v1/ws?token={api.token('agent_a')}") as ws:
            assert ws.receive_json()["type"] == "hello"
            r = send_as_one_batch(api, screener, [
                ("buyer1", conv, "first", "k0"),
                ("buyer1", conv, "second", "k1"),
                ("agent_a", untouched, "hello?", "k2"),  # refused: CHAT-3
                ("buyer1", conv, "second", "k1"),  # the same client_id again, same batch
                ("buyer1", conv, "third", "k3"),
            ])
            assert [x.status_code for x in r] == [201, 201, 403, 200, 201]
            assert r[2].json()["code"] == "chat3_no_buyer_contact"
            assert r[3].json() == r[1].json()  # the replay answers with the stored message
            assert [x.json()["seq"] for x in (r[0], r[1], r[4])] == [1, 2, 3]
            assert send_committer(api.client.app).batches == 2
            pushed = [ws.receive_json() for _ in range(3)]
        assert [f["message"]["text"] for f in pushed] == ["first", "second", "third"]
        stored = api.get("agent_a", f"/api/v1/conversations/{conv}/messages").json()
        assert [(m["seq"], m["text"]) for m in stored] == [(1, "first"), (2, "second"),
                                                            (3, "third")]
        assert api.get("agent_a", f"/api/v1/conversations/{untouched}/messages").json() == []


@pytest.mark.parametrize("crashes", [1, 99], ids=["transient", "persistent"])
def test_a_failure_inside_a_batch_neither_loses_nor_reorders_the_others(
    settings: Settings, world: World, clock: FakeClock, crashes: int
) -> None:
    screener = HoldingScreener(crash_on="boom", crashes=crashes)
    with held_app(settings, world, clock, screener) as api:
        conv = api.open_conversation("buyer1", "a")
        with api.client.websocket_connect(f"/api/v1/ws?token={api.token('agent_a')}") as ws:
            assert ws.receive_json()["type"] == "hello"
            r = send_as_one_batch(api, screener, [
                ("buyer1", conv, "first", "b0"),
                ("buyer1", conv, "a", "b1"),
                ("buyer1", conv, "boom", "b2"),
                ("buyer1", conv, "b", "b3"),
            ])
            # The crash lost the batch's transaction; each send went again on its own.
            expected = ["first", "a", "boom", "b"] if crashes == 1 else ["first", "a", "b"]
            assert [x.status_code for x in r] == (
                [201, 201, 201, 201] if crashes == 1 else [201, 201, 500, 201])
            pushed = [ws.receive_json()["message"] for _ in expected]
        stored = api.get("agent_a", f"/api/v1/conversations/{conv}/messages").json()
        assert [m["text"] for m in stored] == expected
        assert [m["seq"] for m in stored] == list(range(1, len(expected) + 1))
        assert pushed == stored


# Only a server database drops connections: PostgreSQL alone, not a skipped SQLite variant.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_send_survives_the_database_dropping_its_connections(
    api: Api, settings: Settings
) -> None:
    """No pre-ping on checkout: the batch meets the dead connection, the pool is renewed and
    the send goes again on its own."""
    url = settings.resolved_database_url()
    assert url.startswith("postgresql")
    conv = api.open_conversation("buyer1", "a")
    assert api.send("buyer1", conv, "before", client_id="d1").status_code == 201
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as c:
        dropped = c.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    engine.dispose()
    assert dropped and dropped >= 1
    r = api.send("buyer1", conv, "after", client_id="d2")
    assert r.status_code == 201 and r.json()["seq"] == 2


def test_a_serving_process_is_warmed_and_its_startup_heap_frozen(settings: Settings) -> None:
    import gc

    from shopdesk.web.app import warm_up

    app = create_app(settings)
    try:
        warm_up(app)
        # Everything alive after start-up is out of the collector's walks (no long pauses
        # under traffic), and the screening automata are already built.
        assert gc.get_freeze_count() > 10_000
        start = time.perf_counter()
        app.state.check_text("Is my order shipped yet?", "buyer")
        assert time.perf_counter() - start < 0.2
    finally:
        gc.unfreeze()
