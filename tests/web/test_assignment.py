"""Routing conversations to agents, queues, take/release/transfer, and CHAT-5 tickets."""

from __future__ import annotations

from typing import Any

from tests.support.world import FakeClock
from tests.web.conftest import Api


def online(api: Api, who: str, capacity: int, is_online: bool = True) -> Any:
    r = api.put(who, f"/api/v1/shops/{api.world.shops['a']}/presence",
                {"online": is_online, "capacity": capacity})
    assert r.status_code == 200, r.text
    return r.json()


def assigned(api: Api, conv: int) -> int | None:
    agent: int | None = api.get("owner_a", f"/api/v1/conversations/{conv}").json()[
        "assigned_agent"]
    return agent


def queue(api: Api, who: str, name: str) -> list[int]:
    r = api.get(who, "/api/v1/conversations", params={"queue": name})
    assert r.status_code == 200, r.text
    return sorted(c["id"] for c in r.json())


def test_round_robin_among_online_agents(api: Api, clock: FakeClock) -> None:
    online(api, "agent_a", 5)
    online(api, "agent2_a", 5)
    c1 = api.open_conversation("buyer1", "a")
    c2 = api.open_conversation("buyer2", "a")
    api.send("buyer1", c1, "hi")
    clock.advance(minutes=1)
    api.send("buyer2", c2, "hello")
    users = api.world.users
    assert {assigned(api, c1), assigned(api, c2)} == {users["agent_a"], users["agent2_a"]}
    assert queue(api, "agent_a", "unassigned") == []


def test_oldest_waiting_first_and_capacity(api: Api, clock: FakeClock) -> None:
    c1 = api.open_conversation("buyer1", "a")
    c2 = api.open_conversation("buyer2", "a")
    api.send("buyer2", c2, "I wrote first")
    clock.advance(minutes=5)
    api.send("buyer1", c1, "I wrote second")
    assert assigned(api, c1) is None and assigned(api, c2) is None
    assert queue(api, "agent_a", "unassigned") == sorted([c1, c2])
    assert online(api, "agent_a", 1)["assigned"] == 1
    assert assigned(api, c2) == api.world.users["agent_a"]  # the oldest waiting one
    assert queue(api, "agent_a", "mine") == [c2]
    assert queue(api, "agent_a", "unassigned") == [c1]
    assert queue(api, "agent_a", "waiting") == sorted([c1, c2])
    assert queue(api, "agent_b", "waiting") == []  # another shop sees nothing
    online(api, "agent2_a", 1)
    assert assigned(api, c1) == api.world.users["agent2_a"]


def test_release_reassigns_and_agents_release_only_their_own(api: Api) -> None:
    users = api.world.users
    online(api, "agent_a", 1)
    c1 = api.open_conversation("buyer1", "a")
    api.send("buyer1", c1, "help")
    assert assigned(api, c1) == users["agent_a"]
    online(api, "agent2_a", 1)
    r = api.post("agent2_a", f"/api/v1/conversations/{c1}/release")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert api.post("agent_b", f"/api/v1/conversations/{c1}/release").status_code == 404
    r = api.post("agent_a", f"/api/v1/conversations/{c1}/release")
    assert r.status_code == 200
    # Released: it goes to another online agent with room, not back to the one who let go.
    assert assigned(api, c1) == users["agent2_a"]
    r = api.post("agent_a", f"/api/v1/conversations/{c1}/take")
    assert r.status_code == 200 and r.json()["assigned_agent"] == users["agent_a"]


def test_transfer_stays_within_the_shop(api: Api) -> None:
    users = api.world.users
    c1 = api.open_conversation("buyer1", "a")
    api.send("buyer1", c1, "help")
    api.post("agent_a", f"/api/v1/conversations/{c1}/take")
    for outsider in ("agent_b", "buyer2", "staff"):
        r = api.post("agent_a", f"/api/v1/conversations/{c1}/transfer",
                     {"agent": users[outsider]})
        assert r.status_code == 422 and r.json()["code"] == "invalid_agent", outsider
    assert assigned(api, c1) == users["agent_a"]
    r = api.post("agent_a", f"/api/v1/conversations/{c1}/transfer", {"agent": users["agent2_a"]})
    assert r.status_code == 200 and r.json()["assigned_agent"] == users["agent2_a"]
    r = api.post("agent_b", f"/api/v1/conversations/{c1}/transfer", {"agent": users["agent_b"]})
    assert r.status_code == 404
    assert api.post("buyer1", f"/api/v1/conversations/{c1}/take").status_code == 404


def test_chat5_offer_ticket_when_nobody_is_online(api: Api) -> None:
    shop = api.world.shops["a"]
    r = api.post("buyer1", "/api/v1/conversations", {"shop": shop})
    assert r.json()["offer_ticket"] is True
    conv = r.json()["id"]
    r = api.send("buyer1", conv, "anyone?")
    assert r.status_code == 201 and r.headers.get("X-Shopdesk-Offer-Ticket") == "1"
    r = api.post("buyer1", "/api/v1/tickets",
                 {"shop": shop, "text": "Please call me back", "conversation": conv})
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert (ticket["shop"], ticket["status"], ticket["conversation"]) == (shop, "open", conv)
    for who in ("owner_a", "agent_a", "buyer1", "staff"):
        ids = [t["id"] for t in api.get(who, "/api/v1/tickets").json()]
        assert ids == [ticket["id"]], who
    for who in ("owner_b", "agent_b", "buyer2"):
        assert api.get(who, "/api/v1/tickets").json() == [], who
    r = api.post("agent_a", "/api/v1/tickets", {"shop": shop, "text": "x"})
    assert r.status_code == 403
    other = api.open_conversation("buyer1", "b")
    r = api.post("buyer1", "/api/v1/tickets", {"shop": shop, "text": "x", "conversation": other})
    assert r.status_code == 422

    online(api, "agent_a", 2)
    assert api.post("buyer1", "/api/v1/conversations", {"shop": shop}).json()[
        "offer_ticket"] is False
    r = api.send("buyer1", conv, "oh, you are here")
    assert "X-Shopdesk-Offer-Ticket" not in r.headers
