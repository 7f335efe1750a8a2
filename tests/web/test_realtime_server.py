"""A real server (`shopdesk serve`) under concurrent senders, and two servers joined by Redis."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.pg import reset_schema
from tests.support.server import Server, run_servers, sqlite_url
from tests.support.world import World
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

REDIS_URL = os.environ.get("SHOPDESK_TEST_REDIS_URL", "")
SENDERS = 4
PER_SENDER = 25
TOTAL = SENDERS * PER_SENDER


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("private_postgres")
    reset_schema(url)
    return url


class Listener(threading.Thread):
    """Collects `message` frames of one conversation from a WebSocket until it has `want`."""

    def __init__(self, ws: ClientConnection, conversation: int, want: int) -> None:
        super().__init__(daemon=True)
        self.ws, self.conversation, self.want = ws, conversation, want
        self.messages: list[dict[str, Any]] = []
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while len(self.messages) < self.want:
                frame = json.loads(self.ws.recv(timeout=20))
                if frame["type"] == "message" and frame["conversation"] == self.conversation:
                    self.messages.append(frame["message"])
        except (TimeoutError, ConnectionClosed):
            pass
        finally:
            self.done.set()


def listen(server: Server, token: str, conversation: int, want: int) -> Listener:
    ws = ws_connect(server.ws_url(token), open_timeout=10)
    assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    listener = Listener(ws, conversation, want)
    listener.start()
    return listener


def post(client: httpx.Client, token: str, conv: int, client_id: str, text: str) -> httpx.Response:
    return client.post(f"/api/v1/conversations/{conv}/messages",
                       headers={"Authorization": f"Bearer {token}"},
                       json={"client_id": client_id, "kind": "text", "text": text})


def open_conversation(server: Server, token: str, world: World, shop: str = "a") -> int:
    r = httpx.post(server.url("/api/v1/conversations"), json={"shop": world.shops[shop]},
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    conv: int = r.json()["id"]
    return conv


def test_concurrent_senders_get_gapless_seq_and_ordered_push(
    server_db: str, tmp_path: Path
) -> None:
    with run_servers(server_db, [tmp_path / "data"], seed=True) as (server,):
        assert server.world is not None
        world = server.world
        refuses_a_bad_token_with_4401(server)
        tokens = {u: server.token(u) for u in ("buyer1", "agent_a", "agent2_a")}
        conv = open_conversation(server, tokens["buyer1"], world)
        listener = listen(server, tokens["agent2_a"], conv, TOTAL)
        # CHAT-3: the buyer writes first, then buyer and agent write concurrently.
        with httpx.Client(base_url=server.base, timeout=30) as c:
            assert post(c, tokens["buyer1"], conv, "s0-0", "m s0-0").status_code == 201
        senders = [("buyer1" if i % 2 == 0 else "agent_a", f"s{i}") for i in range(SENDERS)]
        statuses: Counter[int] = Counter()
        retried: dict[str, set[int]] = {}
        lock = threading.Lock()

        def run_sender(user: str, prefix: str) -> None:
            start = 1 if prefix == "s0" else 0
            with httpx.Client(base_url=server.base, timeout=30) as c, \
                    ThreadPoolExecutor(2) as retry_pool:
                for i in range(start, PER_SENDER):
                    cid = f"{prefix}-{i}"
                    if i % 5 == 0:  # a deliberate concurrent retry of the same client_id
                        futures = [retry_pool.submit(post, c, tokens[user], conv, cid, f"m {cid}")
                                   for _ in range(2)]
                        rs = [f.result() for f in futures]
                    else:
                        rs = [post(c, tokens[user], conv, cid, f"m {cid}")]
                    with lock:
                        for r in rs:
                            statuses[r.status_code] += 1
                        if len(rs) == 2:
                            retried[cid] = {r.json()["id"] for r in rs if r.status_code < 300}

        with ThreadPoolExecutor(SENDERS) as pool:
            for f in [pool.submit(run_sender, u, p) for u, p in senders]:
                f.result()
        assert set(statuses) <= {200, 201}, (statuses, server.output()[-3000:])
        assert statuses[201] == TOTAL - 1
        assert all(len(ids) == 1 for ids in retried.values()), retried

        r = httpx.get(server.url(f"/api/v1/conversations/{conv}/messages"),
                      params={"after_seq": 0, "limit": 1000},
                      headers={"Authorization": f"Bearer {tokens['agent_a']}"}, timeout=10)
        stored = r.json()
        assert [m["seq"] for m in stored] == list(range(1, TOTAL + 1))
        expected_ids = {f"s{s}-{i}" for s in range(SENDERS) for i in range(PER_SENDER)}
        assert Counter(m["client_id"] for m in stored) == Counter(expected_ids)

        listener.join(timeout=30)
        listener.ws.close()
        got = listener.messages
        assert [m["seq"] for m in got] == list(range(1, TOTAL + 1)), "pushed out of order or lost"
        assert got == stored


@pytest.mark.redis
def test_two_processes_exchange_messages_through_redis(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with run_servers(url, [tmp_path / "a", tmp_path / "b"], redis_url=REDIS_URL,
                     seed=True) as (a, b):
        assert a.world is not None
        world = a.world
        health = httpx.get(a.url("/api/v1/health")).json()
        assert health["broker"] == "RedisBroker"
        buyer, agent = a.token("buyer1"), b.token("agent_a")
        conv = open_conversation(a, buyer, world)
        tag = uuid.uuid4().hex  # the Redis channel is shared with any other test run

        # The agent listens on B; the buyer posts to A.
        agent_ws = listen(b, agent, conv, 1)
        with httpx.Client(base_url=a.base, timeout=10) as c:
            sent = post(c, buyer, conv, f"{tag}-1", f"hello {tag}")
        assert sent.status_code == 201
        agent_ws.join(timeout=15)
        agent_ws.ws.close()
        assert agent_ws.messages == [sent.json()]

        # And the reverse: the buyer listens on A; the agent answers through B.
        buyer_ws = listen(a, buyer, conv, 1)
        with httpx.Client(base_url=b.base, timeout=10) as c:
            reply = post(c, agent, conv, f"{tag}-2", f"hi {tag}")
        assert reply.status_code == 201
        buyer_ws.join(timeout=15)
        buyer_ws.ws.close()
        assert buyer_ws.messages == [reply.json()]
        assert reply.json()["seq"] == 2


def refuses_a_bad_token_with_4401(server: Server) -> None:
    """A real server (not only the test client) closes with 4401, readable by browsers."""
    with ws_connect(server.ws_url("sd_forged"), open_timeout=10) as ws, \
            pytest.raises(ConnectionClosed) as exc:
        ws.recv(timeout=10)
    assert exc.value.rcvd is not None and exc.value.rcvd.code == 4401
