"""The send fast path (`shopdesk.web.send_path`) answers exactly as the FastAPI route does.

Each request below is sent twice, to two conversations in the same state: once as it comes
(a bearer-token JSON send takes the fast path) and once with the fast path switched off, so
FastAPI's route, middlewares and exception handlers answer. Status, JSON and the headers a
client reads must be the same; ids, seqs and times of new messages differ by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.conftest import Api

from shopdesk.web import send_path

VOLATILE = {"id", "seq", "at", "conversation", "author", "author_name"}  # differ by design


def _answer(r: Any) -> tuple[int, Any, dict[str, str | None]]:
    body = r.json()
    if isinstance(body, dict) and "seq" in body:  # a stored message
        body = {k: v for k, v in body.items() if k not in VOLATILE}
    headers = {h: r.headers.get(h) for h in
               ("content-type", "www-authenticate", "x-shopdesk-offer-ticket")}
    return r.status_code, body, headers


def _both(api: Api, monkeypatch: pytest.MonkeyPatch, request: Callable[[int, str, str], Any]
          ) -> tuple[Any, Any]:
    """`request(conversation, its buyer, the other buyer)` on the fast path (buyer1's
    conversation with shop a), then on the full app (buyer2's, in the same state)."""
    conv = api.open_conversation("buyer1", "a")
    taken: list[int | None] = []
    takes = send_path._takes

    def recording(scope: Any) -> int | None:
        taken.append(takes(scope))
        return taken[-1]

    with monkeypatch.context() as m:
        m.setattr(send_path, "_takes", recording)
        fast = request(conv, "buyer1", "buyer2")
    assert conv in taken, "the request did not take the fast path"
    with monkeypatch.context() as m:
        m.setattr(send_path, "_takes", lambda scope: None)
        full = request(api.open_conversation("buyer2", "a"), "buyer2", "buyer1")
    return fast, full


def _post(api: Api, who: str, body: Any, *, raw: bytes | None = None,
          headers: dict[str, str] | None = None) -> Callable[[int], Any]:
    def go(conv: int) -> Any:
        h = {**api.as_(who), "Content-Type": "application/json", **(headers or {})}
        data = raw if raw is not None else json.dumps(body).encode()
        return api.client.post(f"/api/v1/conversations/{conv}/messages", content=data,
                               headers=h)
    return go


CASES: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "stored": ("me", {"client_id": "c1", "text": "Where is my parcel?"}, {}),
    "empty text": ("me", {"client_id": "c1", "text": "  "}, {}),
    "unknown kind": ("me", {"client_id": "c1", "kind": "hologram", "text": "hi"}, {}),
    "too long": ("me", {"client_id": "c1", "text": "a" * 4001}, {}),
    "no client_id": ("me", {"text": "hi"}, {}),
    "wrong type": ("me", {"client_id": "c1", "text": "hi", "attachment": "seven"}, {}),
    "not an object": ("me", ["client_id", "c1"], {}),
    "broken JSON": ("me", None, {"raw": b'{"client_id": "c1", "text": '}),
    "too large": ("me", {"client_id": "c1", "text": "x" * 70_000}, {}),
    "forged token": ("me", {"client_id": "c1", "text": "hi"},
                     {"headers": {"Authorization": "Bearer sd_forged"}}),
    "not a bearer": ("me", {"client_id": "c1", "text": "hi"},
                     {"headers": {"Authorization": "Basic Zm9vOmJhcg=="}}),
    "seller writes first": ("agent_a", {"client_id": "c1", "text": "Sale!"}, {}),
    "another buyer's chat": ("other", {"client_id": "c1", "text": "hi"}, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fast_path_answers_as_the_route_does(
    api: Api, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    who, body, kw = CASES[case]

    def request(conv: int, buyer: str, other: str) -> Any:
        sender = {"me": buyer, "other": other}.get(who, who)
        return _post(api, sender, body, **kw)(conv)

    fast, full = _both(api, monkeypatch, request)
    assert _answer(fast) == _answer(full), case
    assert fast.status_code in {201, 401, 403, 404, 413, 422}


def test_replay_and_reuse_answer_as_the_route_does(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def request(conv: int, who: str, _other: str) -> Any:
        first = _post(api, who, {"client_id": "r1", "text": "Is it in stock?"})(conv)
        again = _post(api, who, {"client_id": "r1", "text": "Is it in stock?"})(conv)
        other = _post(api, who, {"client_id": "r1", "text": "Something else"})(conv)
        assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
        return again, other

    (fast_again, fast_other), (full_again, full_other) = _both(api, monkeypatch, request)
    assert _answer(fast_again) == _answer(full_again) and fast_again.status_code == 200
    assert _answer(fast_other) == _answer(full_other)
    assert fast_other.json()["code"] == "client_id_reused"


def test_refusals_change_nothing(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    for case, (who, body, kw) in CASES.items():
        if case != "stored":
            sender = {"me": "buyer1", "other": "buyer2"}.get(who, who)
            assert _post(api, sender, body, **kw)(conv).status_code >= 400, case
    assert api.get("buyer1", f"/api/v1/conversations/{conv}/messages").json() == []


def _scope(method: str = "POST", path: str = "/api/v1/conversations/7/messages",
           headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    default = [(b"authorization", b"Bearer x"), (b"content-type", b"application/json")]
    return {"type": "http", "method": method, "path": path,
            "headers": default if headers is None else headers}


def test_only_bearer_json_sends_take_the_fast_path() -> None:
    assert send_path._takes(_scope()) == 7
    assert send_path._takes(_scope(headers=[
        (b"authorization", b"Bearer x"), (b"content-type", b"application/json; charset=utf-8"),
    ])) == 7
    # A cookie session needs the session middleware and the CSRF check: the full app.
    assert send_path._takes(_scope(headers=[
        (b"cookie", b"shopdesk_session=abc"), (b"content-type", b"application/json"),
    ])) is None
    assert send_path._takes(_scope(headers=[
        (b"authorization", b"Bearer x"), (b"content-type", b"text/plain"),
    ])) is None
    assert send_path._takes(_scope(method="GET")) is None
    assert send_path._takes(_scope(path="/api/v1/conversations/7/messages/1")) is None
    assert send_path._takes(_scope(path="/api/v1/conversations/-7/messages")) is None
    assert send_path._takes({"type": "websocket", "path": "/api/v1/ws", "headers": []}) is None


def test_a_server_error_is_answered_as_the_app_answers_it(
    settings: Any, world: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from shopdesk.chat import service
    from shopdesk.web.app import create_app

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("the database vanished")

    monkeypatch.setattr(service, "post_message", broken)
    with TestClient(create_app(settings, clock=clock, screener=None),
                    raise_server_exceptions=False) as client:
        api = Api(client, world)
        body = {"client_id": "c1", "text": "hi"}
        fast, full = _both(api, monkeypatch,
                           lambda conv, me, _other: _post(api, me, body)(conv))
    assert fast.status_code == full.status_code == 500
    assert fast.text == full.text == "Internal Server Error"
    assert fast.headers["content-type"] == full.headers["content-type"]


def test_websocket_pushes_use_the_servers_own_send(api: Api) -> None:
    from shopdesk.web.ws import Push

    conv = api.open_conversation("buyer1", "a")
    agent = api.world.users["agent_a"]
    with api.client.websocket_connect(f"/api/v1/ws?token={api.token('agent_a')}") as ws:
        assert ws.receive_json()["type"] == "hello"
        sockets = api.client.app.state.broker.hub._sockets[agent]  # type: ignore[attr-defined]
        assert sockets and all(isinstance(s, Push) for s in sockets)
        assert api.send("buyer1", conv, "anyone there?").status_code == 201
        frame = ws.receive_json()
        assert frame["type"] == "message" and frame["conversation"] == conv
        assert frame["message"]["text"] == "anyone there?"
