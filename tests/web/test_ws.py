"""WebSocket push (CONTRACTS §5): who receives which frame, and catching up after a reconnect."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from tests.web.conftest import Api

MESSAGE_KEYS = {"id", "seq", "at", "sender", "text", "kind", "client_id", "conversation"}


def connect(api: Api, user: str) -> Any:
    return api.client.websocket_connect(f"/api/v1/ws?token={api.token(user)}")


def hello(ws: WebSocketTestSession, api: Api, user: str) -> None:
    frame = ws.receive_json()
    assert frame["type"] == "hello" and frame["user"] == api.world.users[user]


def next_frames(ws: WebSocketTestSession) -> list[dict[str, Any]]:
    """Every frame queued before a ping's pong: frames on one socket arrive in order."""
    ws.send_json({"type": "ping"})
    frames: list[dict[str, Any]] = []
    while True:
        frame = ws.receive_json()
        if frame["type"] == "pong":
            return frames
        frames.append(frame)


def test_message_reaches_shop_and_sender_but_no_one_else(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    users = ("agent_a", "buyer1", "agent_b", "owner_b", "buyer2")
    with connect(api, "agent_a") as agent, connect(api, "buyer1") as buyer, \
            connect(api, "agent_b") as other_agent, connect(api, "owner_b") as other_owner, \
            connect(api, "buyer2") as other_buyer:
        sockets = dict(zip(users, (agent, buyer, other_agent, other_owner, other_buyer),
                           strict=True))
        for user, ws in sockets.items():
            hello(ws, api, user)
        r = api.send("buyer1", conv, "Is the mug dishwasher safe?", client_id="ws-1")
        assert r.status_code == 201
        stored = r.json()
        for user in ("agent_a", "buyer1"):
            frames = next_frames(sockets[user])
            assert frames == [{"type": "message", "conversation": conv, "message": stored}], user
            message = frames[0]["message"]
            assert message.keys() >= MESSAGE_KEYS
            assert (message["seq"], message["sender"], message["text"], message["client_id"]) \
                == (1, "buyer", "Is the mug dishwasher safe?", "ws-1")
        for user in ("agent_b", "owner_b", "buyer2"):
            assert next_frames(sockets[user]) == [], f"{user} must not see another shop's chat"
        # The agent's reply reaches the buyer and the agent; a replay pushes nothing new.
        reply = api.send("agent_a", conv, "Yes, it is.", client_id="ws-2").json()
        assert api.send("agent_a", conv, "Yes, it is.", client_id="ws-2").status_code == 200
        for user in ("agent_a", "buyer1"):
            assert next_frames(sockets[user]) == [
                {"type": "message", "conversation": conv, "message": reply}]
        for user in ("agent_b", "owner_b", "buyer2"):
            assert next_frames(sockets[user]) == []


@pytest.mark.parametrize("query", ["?token=sd_forged", "?token=", ""])
def test_bad_token_closes_the_socket_with_4401(api: Api, query: str) -> None:
    with pytest.raises(WebSocketDisconnect) as exc, \
            api.client.websocket_connect(f"/api/v1/ws{query}") as ws:
        ws.receive_json()  # nothing is ever sent: the first event is the close
    assert exc.value.code == 4401


def test_unknown_and_malformed_frames_get_an_error(api: Api) -> None:
    with connect(api, "buyer1") as ws:
        hello(ws, api, "buyer1")
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "subscribe"})
        assert ws.receive_json() == {"type": "error", "message": "unknown frame"}
        ws.send_json({"type": "resume", "conversation": 999_999, "after_seq": 0})
        assert ws.receive_json()["type"] == "error"


def test_resume_after_reconnect_gets_exactly_the_missing_messages(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    other = api.open_conversation("buyer2", "a")
    with connect(api, "agent_a") as ws:
        hello(ws, api, "agent_a")
        first = api.send("buyer1", conv, "first").json()
        api.send("agent_a", conv, "hello!")
        frames = next_frames(ws)
        assert [f["message"]["seq"] for f in frames] == [1, 2]
    last_seen = frames[-1]["message"]["seq"]
    # Away: messages pile up (and another conversation moves too).
    missed = []
    for i in range(4):
        who = "buyer1" if i % 2 == 0 else "agent_a"
        missed.append(api.send(who, conv, f"while away {i}").json())
    api.send("buyer2", other, "unrelated")
    assert first["seq"] == 1

    caught_up = api.get("agent_a", f"/api/v1/conversations/{conv}/messages",
                        params={"after_seq": last_seen}).json()
    assert caught_up == missed
    assert [m["seq"] for m in caught_up] == [3, 4, 5, 6]

    with connect(api, "agent_a") as ws:
        hello(ws, api, "agent_a")
        ws.send_json({"type": "resume", "conversation": conv, "after_seq": last_seen})
        frames = next_frames(ws)
        assert frames == [{"type": "message", "conversation": conv, "message": m}
                          for m in missed]
        # Live frames continue after the catch-up, without duplicates.
        live = api.send("buyer1", conv, "back?").json()
        assert next_frames(ws) == [{"type": "message", "conversation": conv, "message": live}]
        assert live["seq"] == 7
        # Resuming from the end returns nothing; nobody resumes a conversation not theirs.
        ws.send_json({"type": "resume", "conversation": conv, "after_seq": 7})
        assert next_frames(ws) == []
    with connect(api, "agent_b") as ws:
        hello(ws, api, "agent_b")
        ws.send_json({"type": "resume", "conversation": conv, "after_seq": 0})
        frames = next_frames(ws)
        assert [f["type"] for f in frames] == ["error"]
