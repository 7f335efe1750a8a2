"""Casework through the API: every transition of every process, by the role that may take it,
and every deadline fired by the durable-timer runner (issue 6)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from PIL import Image
from tests.support.world import FakeClock
from tests.web.conftest import Api

from shopdesk.jobs.registry import handlers
from shopdesk.jobs.timers import RunReport, TimerRunner
from shopdesk.store.casework_repo import PROCESSES
from shopdesk.store.models import Order

API = "/api/v1"

# Transitions only reachable under another policy setting are covered by the engine's tests:
# the after-sales AS-D1 auto_accept/notify variants share their action name with the default,
# and a decide_appeal back to `decided` needs max_appeals > 1.


def png(size: tuple[int, int] = (4, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (20, 120, 60)).save(buf, format="PNG")
    return buf.getvalue()


def run_timers(api: Api, clock: FakeClock, name: str = "test") -> RunReport:
    api._tokens.clear()  # tokens live 30 days; weeks pass in these tests
    app: Any = api.client.app
    return TimerRunner(app.state.sessions, handlers(), name=name).run_due(clock())


def new_order(
    api: Api, clock: FakeClock, status: str = "shipped", buyer: str = "buyer1", shop: str = "a"
) -> int:
    w = api.world
    with api.client.app.state.sessions() as db, db.begin():  # type: ignore[attr-defined]
        o = Order(
            shop_id=w.shops[shop],
            buyer_id=w.users[buyer],
            product_id=w.products[shop],
            quantity=1,
            total_cents=1200,
            status=status,
            placed_at=clock(),
            terms_snapshot={"return_days": 30},
        )
        db.add(o)
        db.flush()
        return int(o.id)


def act(
    api: Api,
    who: str,
    case: int,
    action: str,
    params: dict[str, Any] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    r = api.post(who, f"{API}/cases/{case}/actions", {"action": action, "params": params or {}})
    assert r.status_code == status, r.text
    data: dict[str, Any] = r.json()
    return data


def state(api: Api, case: int) -> str:
    r = api.get("staff", f"{API}/cases/{case}")
    assert r.status_code == 200, r.text
    return str(r.json()["state"])


def open_aftersales(
    api: Api, clock: FakeClock, kind: str = "refund_only", status: str = "shipped"
) -> int:
    order = new_order(api, clock, status)
    r = api.post(
        "buyer1",
        f"{API}/aftersales",
        {"order": order, "kind": kind, "reason": "The mug arrived cracked."},
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "awaiting_seller"
    return int(r.json()["id"])


def escalated_dispute(api: Api, clock: FakeClock) -> int:
    case = open_aftersales(api, clock)
    act(api, "agent_a", case, "reject", {"reason": "It was fine when shipped."})
    out = act(api, "buyer1", case, "escalate", {"reason": "It was not."})
    assert out["state"] == "escalated" and len(out["opened"]) == 1
    return int(out["opened"][0])


def open_complaint(api: Api, who: str = "buyer1", **extra: Any) -> int:
    body = {"subject": "Late parcel", "text": "My parcel is two weeks late.", **extra}
    r = api.post(who, f"{API}/complaints", body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def open_ticket(api: Api, who: str, kind: str, **extra: Any) -> int:
    r = api.post(
        who,
        f"{API}/platform-tickets",
        {"kind": kind, "subject": "Help", "body": "Please help.", **extra},
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "open"
    return int(r.json()["id"])


def upload(api: Api, who: str, data: bytes | None = None) -> int:
    r = api.client.post(
        f"{API}/attachments",
        headers=api.as_(who),
        files={"file": ("notice.png", data or png(), "image/png")},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def fm_body(api: Api, clock: FakeClock, ticket: int, **proof: Any) -> dict[str, Any]:
    recovery = (clock() + timedelta(days=10)).date().isoformat()
    return {
        "ticket": ticket,
        "shipping_address": "1 Harbour Rd, Oakland CA",
        "reason": "Port closed by the city's emergency order",
        "proofs": [
            {
                "attachment": upload(api, "owner_a"),
                "declared_kind": "government_notice",
                "file_name": "city-notice.png",
                **proof,
            }
        ],
        "affected_orders": [
            {"order": api.world.orders["a1"], "ship_by": (clock() + timedelta(days=2)).isoformat()}
        ],
        "expected_recovery": recovery,
    }


def open_fm(api: Api, clock: FakeClock) -> int:
    ticket = open_ticket(api, "owner_a", "force_majeure")
    r = api.post("owner_a", f"{API}/force-majeure", fm_body(api, clock, ticket))
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "submitted"
    return int(r.json()["id"])


Step = tuple[Any, ...]


def play(api: Api, clock: FakeClock, case: int, steps: Sequence[Step]) -> None:
    """("who", action, params, expected state) or ("wait", timedelta kwargs, expected state)
    or ("advance", kwargs) (time passes, no timer runs)."""
    for step in steps:
        if step[0] == "wait":
            clock.advance(**step[1])
            run_timers(api, clock)
            assert state(api, case) == step[2], step
        elif step[0] == "advance":
            clock.advance(**step[1])
            api._tokens.clear()
        else:
            who, action, params, expected = step
            assert act(api, who, case, action, params)["state"] == expected, step


def covered(api: Api, process: str) -> set[str]:
    rows = api.get("staff", f"{API}/cases", params={"process": process}).json()
    actions: set[str] = set()
    for row in rows:
        timeline = api.get("staff", f"{API}/cases/{row['id']}/timeline").json()
        actions |= {e["action"] for e in timeline}
    return actions


def all_actions(process: str) -> set[str]:
    return {t.action for t in PROCESSES[process].machine.transitions}


def every_aftersales_transition(api: Api, clock: FakeClock) -> None:
    proposal = {
        "proposal": {"kind": "refund_only", "text": "Half back, keep it", "amount_minor": 600}
    }
    a1 = open_aftersales(api, clock)
    play(
        api,
        clock,
        a1,
        [
            ("agent_a", "accept", {}, "in_progress"),
            ("owner_a", "complete", {"resolution": "Refunded"}, "completed"),
        ],
    )
    a2 = open_aftersales(api, clock, "return_and_refund", "delivered")
    play(
        api,
        clock,
        a2,
        [
            ("admin_a", "accept", {}, "in_progress"),
            ("buyer1", "record_return_shipment", {"tracking": "1Z999"}, "in_progress"),
            ("wait", {"days": 20}, "escalated"),
        ],
    )  # miss_completion (AS-4)
    a3 = open_aftersales(api, clock)
    play(
        api,
        clock,
        a3,
        [
            ("agent_a", "propose_alternative", proposal, "alternative_proposed"),
            ("buyer1", "accept_alternative", {}, "in_progress"),
            ("advance", {"days": 20}),
            ("buyer1", "escalate_late", {"reason": "Nothing happened"}, "escalated"),
        ],
    )
    a4 = open_aftersales(api, clock)
    play(
        api,
        clock,
        a4,
        [
            ("agent2_a", "propose_alternative", proposal, "alternative_proposed"),
            ("buyer1", "decline_alternative", {"reason": "No"}, "no_agreement"),
            ("wait", {"days": 8}, "closed"),
        ],
    )  # escalation_window_missed
    a5 = open_aftersales(api, clock)
    play(
        api,
        clock,
        a5,
        [
            ("agent_a", "propose_alternative", proposal, "alternative_proposed"),
            ("wait", {"days": 4}, "closed"),
        ],
    )  # buyer_reply_missed
    a6 = open_aftersales(api, clock)
    play(api, clock, a6, [("wait", {"days": 6}, "escalated")])  # miss_seller_response
    a7 = open_aftersales(api, clock)
    play(
        api,
        clock,
        a7,
        [
            ("agent_a", "reject", {"reason": "Used"}, "no_agreement"),
            ("buyer1", "escalate", {"reason": "Not used"}, "escalated"),
        ],
    )
    a8 = open_aftersales(api, clock)
    play(api, clock, a8, [("buyer1", "withdraw", {}, "withdrawn")])
    # Escalations opened disputes: by the buyer (a3, a7) and by the system (a2, a6, AS-D1).
    disputes = api.get("staff", f"{API}/cases", params={"process": "disputes"}).json()
    assert sorted(d["parent"] for d in disputes) == sorted([a2, a3, a6, a7])
    for d in disputes:
        opener = api.get("staff", f"{API}/cases/{d['id']}/timeline").json()[0]
        assert opener["role"] == ("system" if d["parent"] in (a2, a6) else "buyer")
    assert all_actions("aftersales") <= covered(api, "aftersales") | {"open"}


def every_dispute_transition(api: Api, clock: FakeClock) -> None:
    d1 = escalated_dispute(api, clock)
    decision = {"outcome": "refund_partial", "reason": "Photos show damage", "amount_minor": 500}
    play(
        api,
        clock,
        d1,
        [
            (
                "buyer1",
                "add_evidence",
                {"evidence_id": "b1", "text": "It was cracked"},
                "collecting_evidence",
            ),
            (
                "agent_a",
                "add_evidence",
                {"evidence_id": "s1", "text": "Packed well"},
                "collecting_evidence",
            ),
            ("staff", "start_review", {}, "under_review"),
            ("staff", "decide", decision, "decided"),
            ("buyer1", "appeal", {"reason": "Half is not enough"}, "appeal_review"),
            ("staff", "decide_appeal", {"outcome": "refund_full", "reason": "Fair"}, "closed"),
        ],
    )
    r = api.post(
        "buyer1",
        f"{API}/disputes",
        {"kind": "no_service", "order": new_order(api, clock), "claim": "The shop never answered"},
    )
    assert r.status_code == 201 and r.json()["state"] == "under_review", r.text
    d2 = int(r.json()["id"])
    play(
        api,
        clock,
        d2,
        [
            ("wait", {"hours": 49}, "under_review"),  # review_overdue flags, decides nothing
            ("staff", "decide", {"outcome": "reject", "reason": "Service was given"}, "decided"),
            ("buyer1", "accept_decision", {}, "closed"),
        ],
    )
    timeline = api.get("buyer1", f"{API}/cases/{d2}/timeline").json()
    assert [e["action"] for e in timeline] == [
        "open",
        "review_overdue",
        "decide",
        "accept_decision",
    ]
    assert timeline[1]["role"] == "system" and timeline[1]["actor"] is None
    d3 = escalated_dispute(api, clock)
    play(
        api,
        clock,
        d3,
        [
            ("wait", {"hours": 73}, "under_review"),  # close_evidence
            ("staff", "decide", {"outcome": "refund_full", "reason": "ok"}, "decided"),
            ("wait", {"days": 8}, "closed"),  # appeal_window_missed
        ],
    )
    r = api.post(
        "buyer1",
        f"{API}/disputes",
        {"kind": "no_service", "order": new_order(api, clock), "claim": "x"},
    )
    play(api, clock, int(r.json()["id"]), [("buyer1", "withdraw", {}, "withdrawn")])
    assert all_actions("disputes") <= covered(api, "disputes") | {"open"}


def every_complaint_transition(api: Api, clock: FakeClock) -> None:
    c1 = open_complaint(api)
    play(
        api,
        clock,
        c1,
        [
            (
                "staff",
                "triage",
                {"category": "logistics", "nature": "simple", "urgency": "low"},
                "received",
            ),
            ("staff", "acknowledge", {"text": "We are on it"}, "acknowledged"),
            ("staff", "progress_update", {"text": "Asked the carrier"}, "acknowledged"),
            ("staff", "assign", {"team": "logistics"}, "investigating"),
            ("staff", "reassign", {"team": "carrier_relations"}, "investigating"),
            ("staff", "add_note", {"text": "Carrier lost it"}, "investigating"),
            (
                "staff",
                "add_evidence",
                {"evidence_id": "e1", "text": "Carrier mail"},
                "investigating",
            ),
            ("staff", "propose_resolution", {"resolution": "Reshipped"}, "awaiting_confirmation"),
            ("buyer1", "reopen", {"reason": "Not arrived either"}, "investigating"),
            ("staff", "propose_resolution", {"resolution": "Refunded"}, "awaiting_confirmation"),
            ("buyer1", "confirm", {"satisfaction": 4}, "resolved"),
            (
                "staff",
                "close",
                {"cause": "carrier", "handling": "refund", "outcome": "ok"},
                "closed",
            ),
            ("staff", "record_follow_up", {"text": "Buyer happy"}, "followed_up"),
        ],
    )
    c2 = open_complaint(api)
    play(
        api,
        clock,
        c2,
        [
            ("wait", {"hours": 25}, "received"),  # acknowledge_overdue
            ("staff", "acknowledge", {}, "acknowledged"),
            ("staff", "triage", {"category": "fraud", "nature": "simple"}, "acknowledged"),
            ("staff", "assign", {"team": "trust"}, "investigating"),
            ("wait", {"days": 20}, "investigating"),  # resolution_overdue
            ("staff", "propose_resolution", {"resolution": "Blocked"}, "awaiting_confirmation"),
            ("wait", {"days": 8}, "resolved"),  # confirmation_lapsed
            ("staff", "close", {"cause": "c", "handling": "h", "outcome": "o"}, "closed"),
            ("wait", {"days": 8}, "closed"),  # follow_up_overdue
        ],
    )
    data = api.get("staff", f"{API}/cases/{c2}").json()["data"]
    assert data["ack_overdue"] and data["resolution_overdue"] and data["follow_up_overdue"]
    c3 = open_complaint(api, "owner_a", shop=api.world.shops["a"], channel="email")
    play(api, clock, c3, [("owner_a", "withdraw", {}, "withdrawn")])
    c4 = open_complaint(api, "staff", complainant=api.world.users["buyer2"], channel="phone")
    assert api.get("buyer2", f"{API}/cases/{c4}").json()["data"]["channel"] == "phone"
    play(api, clock, c4, [("buyer2", "withdraw", {}, "withdrawn")])
    assert all_actions("complaints") <= covered(api, "complaints") | {"open"}


def every_ticket_transition(api: Api, clock: FakeClock) -> None:
    t1 = open_ticket(api, "buyer1", "help_centre")
    play(
        api,
        clock,
        t1,
        [
            ("staff", "take", {}, "in_progress"),
            ("staff", "ask_requester", {"text": "Which order?"}, "waiting_requester"),
            ("buyer1", "reply", {"text": "Order a1"}, "in_progress"),
            ("staff", "transfer", {"queue": "trust_and_safety"}, "open"),
            ("staff", "take", {}, "in_progress"),
            ("staff", "resolve", {"resolution": "Done"}, "resolved"),
            ("buyer1", "reopen", {"text": "Not done"}, "in_progress"),
            ("staff", "resolve", {"resolution": "Done now"}, "resolved"),
            ("wait", {"days": 4}, "closed"),  # auto_close
        ],
    )
    t2 = open_ticket(api, "buyer1", "offline_shop", shop=api.world.shops["a"])
    play(
        api,
        clock,
        t2,
        [
            ("agent_a", "take", {}, "in_progress"),
            ("agent_a", "resolve", {"resolution": "Called back"}, "resolved"),
        ],
    )
    t3 = open_ticket(api, "agent_a", "misconduct_report")
    play(api, clock, t3, [("agent_a", "withdraw", {}, "closed")])
    assert all_actions("tickets") <= covered(api, "tickets") | {"open"}


def every_force_majeure_transition(api: Api, clock: FakeClock) -> None:
    f1 = open_fm(api, clock)
    out = act(api, "staff", f1, "approve", {"days": 5})
    assert out["state"] == "approved"
    ticket = api.get("staff", f"{API}/cases/{out['parent']}").json()
    assert ticket["state"] == "resolved"  # deciding the application answers its ticket
    play(api, clock, f1, [("wait", {"days": 7}, "expired")])  # extension_ended
    f2 = open_fm(api, clock)
    play(api, clock, f2, [("staff", "reject", {"reason": "Not affected"}, "rejected")])
    f3 = open_fm(api, clock)
    play(
        api,
        clock,
        f3,
        [
            ("wait", {"hours": 49}, "submitted"),  # review_overdue
            ("admin_a", "withdraw", {}, "withdrawn"),
        ],
    )
    assert all_actions("force_majeure") <= covered(api, "force_majeure") | {"open"}


def test_every_transition_of_every_process(api: Api, clock: FakeClock) -> None:
    """One world for all five processes (the fixture is the slow part)."""
    every_aftersales_transition(api, clock)
    every_dispute_transition(api, clock)
    every_complaint_transition(api, clock)
    every_ticket_transition(api, clock)
    every_force_majeure_transition(api, clock)
