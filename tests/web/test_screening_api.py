"""Screening on the send path (SCR-D1, SCR-1, SCR-12, PEN-4) through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.support.world import FakeClock, World
from tests.web.conftest import Api

from shopdesk.config import Settings
from shopdesk.store.models import LedgerEntry, Message
from shopdesk.web.app import create_app


@pytest.fixture
def sapi(settings: Settings, world: World, clock: FakeClock) -> Iterator[Api]:
    app = create_app(settings, clock=clock)  # the real screener
    with TestClient(app) as client:
        yield Api(client, world)


def count(api: Api, model: type) -> int:
    with api.client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_blocked_seller_message_is_refused_with_findings_and_not_stored(sapi: Api) -> None:
    conv = sapi.open_conversation("buyer1", "a")
    sapi.send("buyer1", conv, "Is this available in red?")
    text = "Yes! Add me on WhatsApp +1 415 555 0134 and I'll give you a better price"
    r = sapi.send("agent_a", conv, text)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "message_blocked" and "not sent" in body["message"]
    kinds = {(f["rule"], f["kind"]) for f in body["findings"]}
    assert ("SCR-1", "phone") in kinds
    phone = next(f for f in body["findings"] if f["kind"] == "phone")
    assert text[phone["start"]:phone["end"]] == phone["text"] and phone["reason"]
    assert count(sapi, Message) == 1  # only the buyer's question


def test_split_phone_number_is_caught_on_the_completing_message(sapi: Api) -> None:
    conv = sapi.open_conversation("buyer1", "a")
    sapi.send("buyer1", conv, "How can I reach you?")
    assert sapi.send("agent_a", conv, "call 415").status_code == 201
    assert sapi.send("agent_a", conv, "555").status_code == 201
    r = sapi.send("agent_a", conv, "0134")
    assert r.status_code == 422 and r.json()["findings"][0]["rule"] == "SCR-1"


def test_flagged_message_is_delivered_and_queued_then_confirmed(sapi: Api) -> None:
    conv = sapi.open_conversation("buyer1", "a")
    sapi.send("buyer1", conv, "My parcel is late again")
    r = sapi.send("agent_a", conv, "Stop whining, you idiot.")
    assert r.status_code == 201 and r.json()["flagged"] is True
    [review] = sapi.get("staff", "/api/v1/reviews?kind=flagged_message").json()
    assert review["message"] == r.json()["id"] and review["findings"][0]["rule"] == "SCR-8"
    d = sapi.post("staff", f"/api/v1/reviews/{review['id']}/decision",
                  {"outcome": "approved", "reason": "insulting the buyer"})
    assert d.status_code == 200
    led = sapi.get("owner_a", f"/api/v1/shops/{sapi.world.shops['a']}/ledger").json()
    assert [(e["kind"], e["rule"], e["points"]) for e in led["entries"]] == [
        ("screening_violation", "SCR-8", 1)]
    assert count(sapi, LedgerEntry) == 1


def test_everyday_service_text_passes(sapi: Api) -> None:
    conv = sapi.open_conversation("buyer1", "a")
    sapi.send("buyer1", conv, "Where is order 5738291046?")
    r = sapi.send("agent_a", conv, "Order 5738291046 shipped with USPS 9400111899223344556677, "
                                   "arriving Friday. The 12 oz mug is $14.99.")
    assert r.status_code == 201 and r.json()["flagged"] is False


def test_draft_check(sapi: Api) -> None:
    r = sapi.post("agent_a", "/api/v1/screen", {"text": "email me at jo (at) gmail [dot] com"})
    assert r.status_code == 200 and r.json()["verdict"] == "block"
    assert r.json()["findings"][0]["kind"] == "email"
    r = sapi.post("agent_a", "/api/v1/screen", {"text": "Thanks, your refund is on its way."})
    assert r.json() == {"verdict": "allow", "findings": []}
