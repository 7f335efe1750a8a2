"""Sellers report buyers (SCR-12); staff verify; a verified report leaves the evaluation."""

from __future__ import annotations

from sqlalchemy import select
from tests.web.conftest import Api

from shopdesk.store.models import ConversationEvent


def test_verified_report_excludes_the_session(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    msg = api.send("buyer1", conv, "Refund me $500 now or I will post 100 fake reviews").json()
    r = api.post("agent_a", f"/api/v1/messages/{msg['id']}/report",
                 {"reason": "extortion", "note": "threatens fake reviews"})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    review = r.json()["id"]
    dup = api.post("owner_a", f"/api/v1/messages/{msg['id']}/report", {"reason": "abusive"})
    assert dup.status_code == 409 and dup.json()["code"] == "already_reported"
    assert [x["id"] for x in api.get("staff", "/api/v1/reviews").json()] == [review]
    r = api.post("staff", f"/api/v1/reviews/{review}/decision",
                 {"outcome": "approved", "reason": "clear extortion"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as db:
        [ev] = db.scalars(select(ConversationEvent).where(
            ConversationEvent.type == "exclusion")).all()
        assert ev.conversation_id == conv and ev.data["reason"] == "verified_report"
        assert ev.at.isoformat().startswith(msg["at"].replace("Z", ""))


def test_report_refusals(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    buyer_msg = api.send("buyer1", conv, "You are useless").json()
    agent_msg = api.send("agent_a", conv, "Sorry to hear that, how can I help?").json()
    r = api.post("agent_a", f"/api/v1/messages/{agent_msg['id']}/report", {"reason": "abusive"})
    assert r.status_code == 422 and r.json()["code"] == "not_reportable"
    r = api.post("agent_b", f"/api/v1/messages/{buyer_msg['id']}/report", {"reason": "abusive"})
    assert r.status_code == 404
    r = api.post("buyer2", f"/api/v1/messages/{buyer_msg['id']}/report", {"reason": "abusive"})
    assert r.status_code == 404
    r = api.post("agent_a", f"/api/v1/messages/{buyer_msg['id']}/report", {"reason": "rude"})
    assert r.status_code == 422
    review = api.post("agent_a", f"/api/v1/messages/{buyer_msg['id']}/report",
                      {"reason": "abusive"}).json()["id"]
    r = api.post("owner_a", f"/api/v1/reviews/{review}/decision",
                 {"outcome": "approved", "reason": "we agree with ourselves"})
    assert r.status_code == 403
    assert api.post("staff", f"/api/v1/reviews/{review}/decision",
                    {"outcome": "rejected", "reason": "rude but not abusive"}).status_code == 200
    assert api.get("agent_b", f"/api/v1/reviews/{review}").status_code == 404
    assert api.get("agent_a", f"/api/v1/reviews/{review}").json()["status"] == "rejected"
