"""Chat through the HTTP API (CONTRACTS §5, CHAT-1…CHAT-9)."""

from __future__ import annotations

from tests.web.conftest import Api


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
