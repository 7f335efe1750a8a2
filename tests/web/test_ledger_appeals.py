"""The penalty ledger and appeals through the API (PEN-D1, APL-1, APL-2)."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.web.conftest import Api

from shopdesk.policy.penalties import PenaltyDecision
from shopdesk.store import ledger
from shopdesk.store.models import LedgerEntry


def violation(api: Api, shop_key: str = "a") -> int:
    sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as db, db.begin():
        entry = ledger.append(
            db, api.world.shops[shop_key],
            PenaltyDecision("violation", "PEN-2", 1, "24-hour response rate 80.0%"),
            api.client.app.state.clock(),  # type: ignore[attr-defined]
        )
        return entry.id


def count_entries(api: Api) -> int:
    sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as db:
        return int(db.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def test_granted_appeal_appends_a_reversal_and_restores_health(api: Api) -> None:
    shop = api.world.shops["a"]
    entry = violation(api)
    led = api.get("owner_a", f"/api/v1/shops/{shop}/ledger").json()
    assert led["health"]["violation_points"] == 1 and led["entries"][0]["kind"] == "violation"

    r = api.post("owner_a", f"/api/v1/ledger/{entry}/appeals",
                 {"reason": "Our region was under a declared force majeure that week."})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    appeal = r.json()["id"]
    again = api.post("admin_a", f"/api/v1/ledger/{entry}/appeals",
                     {"reason": "Second appeal for the same entry, please."})
    assert again.status_code == 409 and again.json()["code"] == "appeal_pending"

    r = api.post("staff", f"/api/v1/appeals/{appeal}/decision",
                 {"outcome": "granted", "reason": "FM notice verified"})
    assert r.status_code == 200 and r.json()["status"] == "granted" and r.json()["reversal"]

    led = api.get("admin_a", f"/api/v1/shops/{shop}/ledger").json()
    assert led["health"]["violation_points"] == 0
    kinds = [(e["kind"], e["points"], e["reverses"]) for e in led["entries"]]
    assert kinds == [("violation", 1, None), ("reversal", -1, entry)]  # nothing deleted
    assert led["entries"][0]["reversed_by"] == led["entries"][1]["id"]
    # Both sides see the outcome.
    assert api.get("owner_a", f"/api/v1/appeals/{appeal}").json()["decision_reason"] \
        == "FM notice verified"
    r = api.post("owner_a", f"/api/v1/ledger/{entry}/appeals",
                 {"reason": "Trying to appeal a reversed entry again."})
    assert r.status_code == 409 and r.json()["code"] == "already_reversed"


def test_denied_appeal_leaves_the_entry(api: Api) -> None:
    entry = violation(api)
    appeal = api.post("owner_a", f"/api/v1/ledger/{entry}/appeals",
                      {"reason": "We were busy with a big sale that week."}).json()["id"]
    r = api.post("staff", f"/api/v1/appeals/{appeal}/decision",
                 {"outcome": "denied", "reason": "Sales are not force majeure"})
    assert r.status_code == 200 and r.json()["reversal"] is None
    r = api.post("staff", f"/api/v1/appeals/{appeal}/decision",
                 {"outcome": "granted", "reason": "changed my mind"})
    assert r.status_code == 409 and "already denied" in r.json()["message"]
    assert count_entries(api) == 1


def test_who_may_appeal_and_decide(api: Api) -> None:
    entry = violation(api)
    before = count_entries(api)
    r = api.post("agent_a", f"/api/v1/ledger/{entry}/appeals",
                 {"reason": "Agents may not appeal for the shop."})
    assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    r = api.post("owner_b", f"/api/v1/ledger/{entry}/appeals",
                 {"reason": "Another shop's owner trying this."})
    assert r.status_code == 404
    r = api.post("owner_a", f"/api/v1/ledger/{entry}/appeals", {"reason": "short"})
    assert r.status_code == 422
    appeal = api.post("owner_a", f"/api/v1/ledger/{entry}/appeals",
                      {"reason": "A proper reason for this appeal."}).json()["id"]
    r = api.post("owner_a", f"/api/v1/appeals/{appeal}/decision",
                 {"outcome": "granted", "reason": "self-service"})
    assert r.status_code == 403 and "platform staff" in r.json()["message"]
    assert api.get("owner_b", f"/api/v1/appeals/{appeal}").status_code == 404
    assert api.get("owner_b", "/api/v1/appeals").json() == []
    assert [a["id"] for a in api.get("staff", "/api/v1/appeals?status=pending").json()] \
        == [appeal]
    assert count_entries(api) == before
