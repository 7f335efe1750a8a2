"""A write is answered only after its transaction committed: a client told "created" can read
it with its next request, and a commit that fails is not answered with success.

Served by a real uvicorn server: the test client waits for the whole application call, so it
cannot tell an answer sent before the commit from one sent after."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from tests.web.conftest import Api

from shopdesk.web.app import create_app


@pytest.fixture
def served(api: Api) -> Iterator[tuple[str, Any]]:
    import uvicorn

    app = create_app(api.client.app.state.settings)  # type: ignore[attr-defined]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="critical", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_a_failed_commit_is_not_answered_as_success(api: Api, served: tuple[str, Any]) -> None:
    base, app = served
    headers = api.as_("buyer1")
    seen: list[str] = []

    def refuse(session: Any) -> None:
        # Only the write under test: the token lookup and other reads commit nothing.
        if session.new:
            seen.append("refused")
            raise RuntimeError("the disk is full")

    event.listen(app.state.sessions, "before_commit", refuse)
    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post("/api/v1/conversations", json={"shop": api.world.shops["a"]},
                        headers=headers)
        assert seen == ["refused"]
        assert r.status_code == 500, r.text
        event.remove(app.state.sessions, "before_commit", refuse)
        # Nothing was stored, and the next request says so.
        assert client.get("/api/v1/conversations", headers=headers).json() == []


def test_created_is_visible_to_the_next_request(api: Api, served: tuple[str, Any]) -> None:
    base, app = served

    def slow(_session: Any) -> None:
        time.sleep(0.05)  # a slow disk: the commit takes a while

    event.listen(app.state.sessions, "before_commit", slow)
    with httpx.Client(base_url=base, timeout=10) as client:
        for who, shop in (("buyer1", "a"), ("buyer1", "b"), ("buyer2", "a")):
            headers = api.as_(who)
            r = client.post("/api/v1/conversations", json={"shop": api.world.shops[shop]},
                            headers=headers)
            assert r.status_code == 201, r.text
            listed = client.get("/api/v1/conversations", headers=headers).json()
            assert r.json()["id"] in {c["id"] for c in listed}
