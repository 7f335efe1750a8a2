"""GET /orders: each caller's orders, paged, with whether an after-sales request may be opened
now (AS-6) exactly as `POST /aftersales` decides; and the KB list's language filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.world import FakeClock
from tests.web.conftest import Api
from tests.web.test_casework_regions import iso, new_order

API = "/api/v1"


def orders(api: Api, who: str, **params: Any) -> list[dict[str, Any]]:
    r = api.get(who, f"{API}/orders", params=params)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()
    return data


def kinds(order: dict[str, Any]) -> dict[str, str | None]:
    return {k["kind"]: k["reason"] for k in order["aftersales"]["kinds"]}


def test_orders_are_scoped_and_say_what_may_be_requested_now(api: Api, clock: FakeClock) -> None:
    now = clock()
    delivered = new_order(api, clock, status="delivered", placed_at=now - timedelta(days=9),
                          shipped_at=now - timedelta(days=8), delivered_at=now - timedelta(days=5))
    expired = new_order(api, clock, status="delivered", placed_at=now - timedelta(days=35),
                        shipped_at=now - timedelta(days=33), delivered_at=now - timedelta(days=31))
    waiting = new_order(api, clock, status="paid")
    a1 = api.world.orders["a1"]  # "shipped" with no instant: counts as shipped at placing

    mine = orders(api, "buyer1")
    assert [o["id"] for o in mine] == [waiting, expired, delivered, a1]  # newest first
    by_id = {o["id"]: o for o in mine}
    d = by_id[delivered]
    assert (d["status"], d["shipped_at"], d["delivered_at"]) == (
        "delivered", iso(now - timedelta(days=8)), iso(now - timedelta(days=5)))
    assert d["product"]["id"] == api.world.products["a"] and d["product"]["title"]
    assert d["shop"] == api.world.shops["a"] and d["aftersales_requests"] == []
    assert d["aftersales"]["open_now"] is True
    assert kinds(d)["return_and_refund"] is None
    assert "the order has shipped" in str(kinds(d)["cancellation"])
    assert by_id[expired]["aftersales"]["open_now"] is False
    assert "window of 30 days after delivery ended" in str(kinds(by_id[expired])["refund_only"])
    assert kinds(by_id[waiting])["cancellation"] is None
    assert "needs the order delivered first" in str(kinds(by_id[waiting])["exchange"])

    # The list and POST /aftersales never disagree: every refusal listed is the API's refusal.
    for o in (by_id[expired], by_id[waiting]):
        for kind, reason in kinds(o).items():
            if reason is None:
                continue
            r = api.post("buyer1", f"{API}/aftersales",
                         {"order": o["id"], "kind": kind, "reason": "Broken."})
            assert r.status_code == 422 and r.json()["message"] == reason, (kind, r.text)
    r = api.post("buyer1", f"{API}/aftersales",
                 {"order": delivered, "kind": "return_and_refund", "reason": "Broken."})
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    for who in ("buyer1", "agent_a", "staff"):
        o = next(o for o in orders(api, who) if o["id"] == delivered)
        assert o["aftersales_requests"] == [{"id": case, "state": r.json()["state"]}], who

    # Another buyer and another shop's team see none of them, even asking for the shop.
    assert orders(api, "buyer2") == []
    assert orders(api, "owner_b") == []
    assert orders(api, "agent_b", shop=api.world.shops["a"]) == []
    assert {o["id"] for o in orders(api, "agent_a")} == set(by_id)
    assert [o["id"] for o in orders(api, "admin_a", status="delivered")] == [expired, delivered]

    # Staff page through every order; `before` continues after the last id of a page.
    first = orders(api, "staff", limit=2)
    rest = orders(api, "staff", limit=2, before=first[-1]["id"])
    assert [o["id"] for o in first + rest] == [waiting, expired, delivered, a1]
    assert orders(api, "staff", before=a1) == []
    r = api.get("staff", f"{API}/orders", params={"limit": 201})
    assert r.status_code == 422, r.text


def test_kb_entries_filter_by_language(api: Api) -> None:
    shop = api.world.shops["a"]
    base = f"{API}/shops/{shop}/kb/entries"
    for key, lang in (("fr1", "fr"), ("frca", "fr-CA"), ("any", None), ("de1", "de")):
        r = api.post("owner_a", base, {"id": key, "category": "logistics", "lang": lang,
                                       "question": f"Q {key}?", "answer": f"A {key}"})
        assert r.status_code == 201, r.text

    def keys(**params: Any) -> set[str]:
        r = api.get("agent_a", base, params=params)
        assert r.status_code == 200, r.text
        return {e["id"] for e in r.json()}

    everything = keys()
    assert {"fr1", "frca", "any", "de1"} <= everything
    french = keys(language="FR", category="logistics")
    # A French buyer gets French entries (any region) and the language-neutral ones.
    assert french == {"fr1", "frca", "any"}
    assert keys(language="fr-CA", category="logistics") == {"frca", "any"}
    assert "de1" not in keys(language="fr")
    english = keys(language="en")
    assert english and all(k not in english for k in ("fr1", "frca", "de1"))
    r = api.get("agent_a", base, params={"language": ""})
    assert r.status_code == 422, r.text
    r = api.get("agent_b", base, params={"language": "fr"})
    assert r.status_code == 404, r.text
