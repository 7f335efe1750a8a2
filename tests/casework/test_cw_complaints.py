"""Complaints: every transition, refusals and deadlines (rules CMP-1 … CMP-8)."""

from __future__ import annotations

import pytest
from cw_helpers import AGENT, BUYER, OTHER_BUYER, OWNER, STAFF, utc, with_policy

from shopdesk.casework import complaints as C
from shopdesk.casework.complaints import Channel, ComplaintCase
from shopdesk.casework.machine import (
    SYSTEM_ACTOR,
    Context,
    GuardFailed,
    IllegalTransition,
    InvalidInput,
    NotAParty,
    Result,
    RoleNotAllowed,
)

T0 = utc(2026, 3, 11, 14)  # Wednesday 10:00 New York


def open_c(ctx: Context, text: str = "my parcel is late", **kw: object) -> Result[ComplaintCase]:
    args: dict[str, object] = {
        "case_id": "c-1",
        "complainant": BUYER,
        "channel": Channel.IN_APP,
        "subject": "order o-1",
        "text": text,
        "now": T0,
        "ctx": ctx,
        "about_shop_id": "s1",
    }
    args.update(kw)
    return C.open_complaint(**args)  # type: ignore[arg-type]


def investigating(ctx: Context, nature: str = "simple") -> ComplaintCase:
    c = open_c(ctx).case
    c = C.apply(c, "acknowledge", STAFF, T0, ctx).case
    c = C.apply(c, "triage", STAFF, T0, ctx, {"category": "logistics", "nature": nature}).case
    return C.apply(c, "assign", STAFF, T0, ctx, {"team": "logistics"}).case


def proposed(ctx: Context) -> ComplaintCase:
    return C.apply(
        investigating(ctx), "propose_resolution", STAFF, T0, ctx, {"resolution": "r"}
    ).case


def test_open_records_channel_and_proposed_urgency(ctx: Context) -> None:  # CMP-1, CMP-2, CMP-3
    r = open_c(ctx, "I was scammed, calling the police", channel=Channel.PHONE, recorded_by=STAFF)
    c = r.case
    assert c.channel is Channel.PHONE and c.urgency.value == "high" and c.recorded_by == "staff1"
    assert r.events[0].actor_id == "staff1" and "scammed" in r.events[0].detail["proposed_urgency"]
    assert r.arm[0].name == "acknowledge" and r.arm[0].due == utc(2026, 3, 11, 16)
    assert open_c(ctx).arm[0].due == utc(2026, 3, 12, 14)  # low: 24 h
    with pytest.raises(InvalidInput):
        open_c(ctx, complainant=STAFF)
    with pytest.raises(InvalidInput):
        open_c(ctx, recorded_by=AGENT)
    with pytest.raises(InvalidInput):
        open_c(ctx, " ")


def test_acknowledge_and_overdue(ctx: Context) -> None:  # CMP-3
    c = open_c(ctx).case
    with pytest.raises(RoleNotAllowed):
        C.apply(c, "acknowledge", BUYER, T0, ctx)
    r = C.apply(c, "acknowledge", STAFF, T0, ctx)
    assert r.case.state == "acknowledged" and r.case.acknowledged_at == T0
    assert r.cancel == ("acknowledge",) and r.case.updates[0].audience == "complainant"
    late = C.fire(c, "acknowledge", utc(2026, 3, 12, 14), ctx)
    assert late.case.ack_overdue and late.case.state == "received"
    assert C.apply(
        late.case, "acknowledge", SYSTEM_ACTOR, utc(2026, 3, 12, 15), ctx
    ).case.acknowledged_at


def test_triage_and_assign(ctx: Context) -> None:  # CMP-2, CMP-4
    c = C.apply(open_c(ctx).case, "acknowledge", STAFF, T0, ctx).case
    with pytest.raises(GuardFailed, match="triage first"):
        C.apply(c, "assign", STAFF, T0, ctx, {"team": "x"})
    with pytest.raises(GuardFailed, match="category must be"):
        C.apply(c, "triage", STAFF, T0, ctx, {"category": "vibes"})
    with pytest.raises(GuardFailed, match="at least one"):
        C.apply(c, "triage", STAFF, T0, ctx, {})
    t = C.apply(
        c, "triage", STAFF, T0, ctx, {"category": "fraud", "nature": "complex", "urgency": "high"}
    )
    assert t.case.urgency.value == "high" and t.events[0].detail["proposed_urgency"] == "low"
    with pytest.raises(GuardFailed, match="team"):
        C.apply(t.case, "assign", STAFF, T0, ctx, {})
    a = C.apply(t.case, "assign", STAFF, T0, ctx, {"team": "trust", "assignee": "s2"})
    assert a.case.state == "investigating" and a.case.team == "trust"
    assert a.arm[0].name == "resolution" and a.arm[0].due == utc(2026, 3, 13, 14)  # high: 2 bd
    r = C.apply(a.case, "reassign", STAFF, T0, ctx, {"team": "fraud_ops"})
    assert r.case.team == "fraud_ops" and r.case.state == "investigating"


def test_investigation_records(ctx: Context) -> None:  # CMP-5, CMP-6
    c = investigating(ctx)
    c = C.apply(
        c, "add_note", STAFF, T0, ctx, {"text": "called carrier", "party": "third_party"}
    ).case
    with pytest.raises(InvalidInput, match="party"):
        C.apply(c, "add_note", STAFF, T0, ctx, {"text": "x", "party": "aliens"})
    with pytest.raises(GuardFailed):
        C.apply(c, "add_note", STAFF, T0, ctx, {"text": ""})
    c = C.apply(
        c,
        "add_evidence",
        STAFF,
        T0,
        ctx,
        {"evidence_id": "e1", "text": "scan log", "party": "merchant"},
    ).case
    with pytest.raises(InvalidInput, match="cannot be changed"):
        C.apply(c, "add_evidence", STAFF, T0, ctx, {"evidence_id": "e1", "text": "edit"})
    c = C.apply(c, "progress_update", STAFF, T0, ctx, {"text": "we contacted the carrier"}).case
    assert [n.audience for n in c.notes] == ["third_party"]
    assert c.evidence[0].party == "merchant" and c.updates[-1].text == "we contacted the carrier"
    with pytest.raises(RoleNotAllowed):
        C.apply(c, "add_note", OWNER, T0, ctx, {"text": "x"})


def test_resolution_overdue(ctx: Context) -> None:
    c = investigating(ctx)
    due = c.deadline("resolution")
    assert due is not None and due.due == utc(2026, 3, 25, 14)  # low: 10 business days
    r = C.fire(c, "resolution", due.due, ctx)
    assert r.case.resolution_overdue and r.case.state == "investigating"


def test_complex_needs_plan(ctx: Context) -> None:  # CMP-5
    c = investigating(ctx, "complex")
    with pytest.raises(GuardFailed, match="plan"):
        C.apply(c, "propose_resolution", STAFF, T0, ctx, {"resolution": "refund"})
    r = C.apply(c, "propose_resolution", STAFF, T0, ctx, {"resolution": "refund", "plan": "1. 2."})
    assert r.case.state == "awaiting_confirmation" and r.case.plan == "1. 2."
    assert r.cancel == ("resolution",) and r.arm[0].name == "confirmation"


def test_confirm_close_follow_up(ctx: Context) -> None:  # CMP-7, CMP-8
    c = proposed(ctx)
    with pytest.raises(NotAParty):
        C.apply(c, "confirm", OTHER_BUYER, T0, ctx)
    with pytest.raises(GuardFailed, match="1 … 5"):
        C.apply(c, "confirm", BUYER, T0, ctx, {"satisfaction": 9})
    r = C.apply(c, "confirm", BUYER, T0, ctx, {"satisfaction": 4})
    assert r.case.state == "resolved" and r.case.satisfaction == 4 and r.case.resolved_at == T0
    with pytest.raises(GuardFailed, match="cause, handling, outcome"):
        C.apply(r.case, "close", STAFF, T0, ctx, {"cause": "x"})
    summary = {"cause": "carrier lost it", "handling": "resent", "outcome": "delivered"}
    closed = C.apply(r.case, "close", STAFF, T0, ctx, summary)
    assert closed.case.state == "closed" and closed.case.summary is not None
    assert closed.arm[0].name == "follow_up" and closed.arm[0].due == utc(2026, 3, 18, 14)
    over = C.fire(closed.case, "follow_up", utc(2026, 3, 18, 14), ctx)
    assert over.case.follow_up_overdue
    done = C.apply(over.case, "record_follow_up", STAFF, utc(2026, 3, 19), ctx, {"text": "ok"})
    assert done.case.state == "followed_up" and done.case.follow_up == "ok"
    with pytest.raises(IllegalTransition):
        C.apply(done.case, "reopen", BUYER, utc(2026, 3, 19), ctx, {"reason": "x"})


def test_reopen_goes_back_to_handling(ctx: Context) -> None:  # CMP-7
    c = proposed(ctx)
    with pytest.raises(GuardFailed, match="reason"):
        C.apply(c, "reopen", BUYER, T0, ctx, {})
    with pytest.raises(RoleNotAllowed):
        C.apply(c, "reopen", STAFF, T0, ctx, {"reason": "x"})
    r = C.apply(c, "reopen", BUYER, T0, ctx, {"reason": "still not here"})
    assert r.case.state == "investigating" and r.case.reopen_count == 1
    assert r.cancel == ("confirmation",) and r.arm[0].name == "resolution"


def test_confirmation_lapses(ctx: Context) -> None:  # decision CW-11
    c = proposed(ctx)
    r = C.fire(c, "confirmation", utc(2026, 3, 18, 14), ctx)
    assert r.case.state == "resolved" and r.case.satisfaction is None
    assert r.events[0].detail["confirmed_by"] == "silence"


def test_seller_complainant_and_withdraw(ctx: Context) -> None:
    c = open_c(ctx, complainant=OWNER).case
    assert c.shop_id == "s1" and c.buyer_id is None
    with pytest.raises(GuardFailed):
        C.apply(c, "withdraw", BUYER, T0, ctx)
    r = C.apply(c, "withdraw", AGENT, T0, ctx, {"reason": "solved"})
    assert r.case.state == "withdrawn" and r.cancel == ("acknowledge",)


def test_policy_ack_hours(ctx: Context) -> None:
    from shopdesk.casework.policy import ByUrgency

    fast = with_policy(ctx, "complaints", acknowledge_hours=ByUrgency(1, 1, 1))
    assert open_c(fast).arm[0].due == utc(2026, 3, 11, 15)


def test_triage_rearms_deadlines_by_urgency(ctx: Context) -> None:  # CMP-2, CMP-3, decision CW-12
    c = open_c(ctx).case  # low: acknowledge within 24 h
    r = C.apply(c, "triage", STAFF, utc(2026, 3, 11, 15), ctx, {"urgency": "high"})
    assert [(d.name, d.due) for d in r.arm] == [("acknowledge", utc(2026, 3, 11, 16))]
    assert r.case.deadline("acknowledge").due == utc(2026, 3, 11, 16)  # type: ignore[union-attr]
    same = C.apply(r.case, "triage", STAFF, utc(2026, 3, 11, 15), ctx, {"category": "fraud"})
    assert same.arm[0].due == utc(2026, 3, 11, 16)
    inv = investigating(ctx)  # low: 10 business days from assignment
    r2 = C.apply(inv, "triage", STAFF, utc(2026, 3, 12, 14), ctx, {"urgency": "medium"})
    assert [(d.name, d.due) for d in r2.arm] == [("resolution", utc(2026, 3, 19, 14))]
