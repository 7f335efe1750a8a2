"""After-sales machine: every transition, refusals, deadlines (rules AS-1 … AS-6, AS-D1)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cw_helpers import (
    AGENT,
    BUYER,
    OPENED,
    OTHER_BUYER,
    OTHER_SHOP,
    OWNER,
    STAFF,
    TERMS,
    open_as,
    order,
    utc,
    with_policy,
)

from shopdesk.casework import aftersales as AS
from shopdesk.casework.aftersales import AfterSalesKind, Proposal, Terms
from shopdesk.casework.machine import (
    SYSTEM_ACTOR,
    Context,
    DeadlineNotDue,
    GuardFailed,
    IllegalTransition,
    InvalidInput,
    LateAction,
    NotAParty,
    RoleNotAllowed,
)
from shopdesk.casework.records import Attachment

# OPENED is Wednesday 2026-03-11 10:00 New York; + 2 business days = Friday 10:00 (14:00 UTC)
RESPONSE_DUE = utc(2026, 3, 13, 14)


def test_open_arms_response_deadline(ctx: Context) -> None:  # rule AS-3
    r = open_as(ctx)
    assert r.case.state == "awaiting_seller"
    assert [(d.name, d.due, d.on_expiry) for d in r.arm] == [
        ("seller_response", RESPONSE_DUE, "miss_seller_response")
    ]
    assert r.case.deadlines == r.arm
    assert r.events[0].action == "open" and r.events[0].actor_id == "b1"


def test_open_refusals(ctx: Context) -> None:  # rules AS-2, AS-5, AS-6
    with pytest.raises(InvalidInput, match="buyer"):
        open_as(ctx, actor=OTHER_BUYER)
    with pytest.raises(InvalidInput, match="reason"):
        open_as(ctx, reason=" ")
    with pytest.raises(InvalidInput, match="window of 30 days"):
        open_as(ctx, now=utc(2026, 4, 4, 16))
    with pytest.raises(InvalidInput, match="shipped"):
        open_as(ctx, AfterSalesKind.CANCELLATION)
    with pytest.raises(InvalidInput, match="delivered first"):
        open_as(ctx, AfterSalesKind.EXCHANGE, order=order(delivered_at=None))
    with pytest.raises(InvalidInput, match="amount"):
        open_as(ctx, requested_amount_minor=9999)
    # cancellation before shipment and refund-only before delivery are fine
    r = open_as(ctx, AfterSalesKind.CANCELLATION, order=order(shipped_at=None, delivered_at=None))
    assert r.case.kind is AfterSalesKind.CANCELLATION
    assert open_as(ctx, order=order(delivered_at=None)).case.state == "awaiting_seller"


def test_window_never_below_platform_terms(ctx: Context) -> None:  # rule AS-5
    stingy = replace(TERMS, refund_window_days=3)
    # 10 days after delivery: outside the shop's 3 days, inside the platform's 15
    r = open_as(ctx, order=order(terms=stingy), now=utc(2026, 3, 14, 15))
    assert r.case.state == "awaiting_seller"
    assert "refund_window_days" in r.events[0].detail["terms_below_platform"][0]
    assert "terms_below_platform" not in open_as(ctx).events[0].detail
    with pytest.raises(InvalidInput, match="15 days"):
        open_as(ctx, order=order(terms=stingy), now=utc(2026, 3, 20, 15))


def test_validate_terms(ctx: Context) -> None:  # rule AS-5
    platform = ctx.policy.aftersales.platform_terms
    assert AS.validate_terms(TERMS, platform) == ()
    bad = Terms(False, 7, 15, 15, 30, False)
    problems = AS.validate_terms(bad, platform)
    assert [p.field for p in problems] == [
        "cancellation_before_shipment",
        "return_window_days",
        "seller_pays_return_shipping_for_defects",
    ]
    assert "less favourable" in str(problems[1])


def test_non_refund_kind_uses_other_response_days(ctx: Context) -> None:  # decision CW-2
    c2 = with_policy(ctx, "aftersales", other_response_business_days=5)
    r = open_as(c2, AfterSalesKind.EXCHANGE)
    assert r.arm[0].due == utc(2026, 3, 18, 14)


def test_accept_then_complete(ctx: Context) -> None:  # rules AS-2, AS-4
    r = AS.apply(open_as(ctx).case, "accept", AGENT, utc(2026, 3, 12, 14), ctx)
    assert r.case.state == "in_progress"
    assert r.cancel == ("seller_response",)
    assert r.arm[0].name == "completion"
    assert r.arm[0].due == utc(2026, 3, 26, 14)  # Thursday + 10 business days
    done = AS.apply(r.case, "complete", OWNER, utc(2026, 3, 20), ctx, {"resolution": "refunded"})
    assert done.case.state == "completed" and done.case.outcome == "completed"
    assert done.cancel == ("completion",) and done.case.deadlines == ()
    with pytest.raises(GuardFailed, match="resolution"):
        AS.apply(r.case, "complete", OWNER, utc(2026, 3, 20), ctx, {})


def test_wrong_role_party_state_and_unknown_action(ctx: Context) -> None:
    case = open_as(ctx).case
    with pytest.raises(RoleNotAllowed, match="Allowed now: accept by"):
        AS.apply(case, "accept", BUYER, OPENED, ctx)
    with pytest.raises(RoleNotAllowed):
        AS.apply(case, "accept", STAFF, OPENED, ctx)
    with pytest.raises(RoleNotAllowed):
        AS.apply(case, "miss_seller_response", OWNER, OPENED, ctx)
    with pytest.raises(NotAParty):
        AS.apply(case, "accept", OTHER_SHOP, OPENED, ctx)
    with pytest.raises(NotAParty):
        AS.apply(case, "withdraw", OTHER_BUYER, OPENED, ctx)
    with pytest.raises(IllegalTransition, match="not possible") as err:
        AS.apply(case, "complete", OWNER, OPENED, ctx, {"resolution": "x"})
    assert {a.action for a in err.value.allowed} >= {"accept", "reject", "withdraw"}
    with pytest.raises(IllegalTransition, match="not an action"):
        AS.apply(case, "dance", OWNER, OPENED, ctx)
    with pytest.raises(InvalidInput, match="before the last change"):
        AS.apply(case, "accept", OWNER, utc(2026, 3, 1), ctx)
    done = AS.apply(case, "withdraw", BUYER, OPENED, ctx).case
    with pytest.raises(IllegalTransition, match="Nothing is allowed now"):
        AS.apply(done, "accept", OWNER, OPENED, ctx)


@pytest.mark.parametrize("action", ["accept", "reject", "propose_alternative"])
def test_seller_response_too_late(ctx: Context, action: str) -> None:  # rule AS-3
    case = open_as(ctx).case
    params = {"reason": "x", "proposal": Proposal(AfterSalesKind.EXCHANGE, "swap")}
    # exactly at the deadline is in time
    AS.apply(case, action, OWNER, RESPONSE_DUE, ctx, params)
    with pytest.raises(LateAction, match="seller_response") as err:
        AS.apply(case, action, OWNER, utc(2026, 3, 13, 14, 1), ctx, params)
    assert err.value.code == "too_late"
    assert "withdraw by buyer" in str(err.value)


def test_missed_response_escalates_by_default(ctx: Context) -> None:  # decision AS-D1
    case = open_as(ctx).case
    with pytest.raises(DeadlineNotDue):
        AS.fire(case, "seller_response", utc(2026, 3, 12), ctx)
    r = AS.fire(case, "seller_response", RESPONSE_DUE, ctx)
    assert r.case.state == "escalated" and r.case.outcome == "escalated"
    assert r.events[0].actor_role == "system" and r.events[0].rule == "AS-D1"
    assert r.events[0].detail["deadline"] == "seller_response"
    assert r.case.deadlines == () and r.cancel == ()
    # a stale timer firing again is a no-op
    again = AS.fire(r.case, "seller_response", RESPONSE_DUE, ctx)
    assert again.case is r.case and again.events == ()


def test_missed_response_auto_accept_and_notify(ctx: Context) -> None:  # decision AS-D1
    auto = with_policy(ctx, "aftersales", missed_response_action="auto_accept")
    r = AS.fire(open_as(auto).case, "seller_response", RESPONSE_DUE, auto)
    assert r.case.state == "in_progress" and r.case.response_overdue
    assert [d.name for d in r.arm] == ["completion"]
    note = with_policy(ctx, "aftersales", missed_response_action="notify")
    r = AS.fire(open_as(note).case, "seller_response", RESPONSE_DUE, note)
    assert r.case.state == "awaiting_seller" and r.case.response_overdue
    assert r.case.deadlines == ()
    # the deadline is consumed: a late response is now accepted and recorded
    late = AS.apply(r.case, "accept", OWNER, utc(2026, 3, 16), note)
    assert late.case.state == "in_progress"


def test_alternative_accepted(ctx: Context) -> None:  # rule AS-1 tailored plan
    case = open_as(ctx).case
    with pytest.raises(GuardFailed, match="proposal"):
        AS.apply(case, "propose_alternative", OWNER, OPENED, ctx, {})
    with pytest.raises(GuardFailed, match="amount"):
        prop = Proposal(AfterSalesKind.REFUND_ONLY, "half", 10**6)
        AS.apply(case, "propose_alternative", OWNER, OPENED, ctx, {"proposal": prop})
    prop = Proposal(AfterSalesKind.REFUND_ONLY, "partial refund, keep the item", 2000)
    r = AS.apply(case, "propose_alternative", OWNER, OPENED, ctx, {"proposal": prop})
    assert r.case.state == "alternative_proposed" and r.case.alternative == prop
    assert r.arm[0].name == "buyer_reply" and r.arm[0].due == utc(2026, 3, 14, 14)
    with pytest.raises(RoleNotAllowed):
        AS.apply(r.case, "accept_alternative", OWNER, OPENED, ctx)
    ok = AS.apply(r.case, "accept_alternative", BUYER, utc(2026, 3, 12), ctx)
    assert ok.case.state == "in_progress"
    with pytest.raises(LateAction):
        AS.apply(r.case, "accept_alternative", BUYER, utc(2026, 3, 15), ctx)


def test_alternative_declined_then_escalated(ctx: Context) -> None:  # rules AS-2, DSP-1
    prop = Proposal(AfterSalesKind.REPAIR, "we repair it")
    case = AS.apply(
        open_as(ctx).case, "propose_alternative", OWNER, OPENED, ctx, {"proposal": prop}
    ).case
    r = AS.apply(case, "decline_alternative", BUYER, utc(2026, 3, 12), ctx, {"reason": "no"})
    assert r.case.state == "no_agreement" and r.case.buyer_reason == "no"
    assert r.arm[0].name == "escalation_window"
    with pytest.raises(LateAction):
        AS.apply(case, "decline_alternative", BUYER, utc(2026, 3, 15), ctx)
    esc = AS.apply(r.case, "escalate", BUYER, utc(2026, 3, 13), ctx)
    assert esc.case.state == "escalated" and esc.events[0].rule == "DSP-1"


def test_buyer_silence_on_proposal_closes(ctx: Context) -> None:  # decision CW-3
    prop = Proposal(AfterSalesKind.EXCHANGE, "swap")
    case = AS.apply(
        open_as(ctx).case, "propose_alternative", OWNER, OPENED, ctx, {"proposal": prop}
    ).case
    r = AS.fire(case, "buyer_reply", utc(2026, 3, 14, 14), ctx)
    assert r.case.state == "closed" and r.case.outcome == "lapsed"


def test_reject_then_window_lapses(ctx: Context) -> None:  # rule AS-2, decision CW-5
    case = open_as(ctx).case
    with pytest.raises(GuardFailed, match="reason"):
        AS.apply(case, "reject", OWNER, OPENED, ctx, {"reason": ""})
    r = AS.apply(case, "reject", OWNER, OPENED, ctx, {"reason": "used item"})
    assert r.case.state == "no_agreement" and r.case.seller_reason == "used item"
    due = r.case.deadline("escalation_window")
    assert due is not None and due.due == utc(2026, 3, 18, 14)
    with pytest.raises(LateAction):
        AS.apply(r.case, "escalate", BUYER, utc(2026, 3, 19), ctx)
    closed = AS.fire(r.case, "escalation_window", due.due, ctx)
    assert closed.case.state == "closed"


def test_return_shipment(ctx: Context) -> None:  # rule AS-2
    case = open_as(ctx, AfterSalesKind.RETURN_AND_REFUND).case
    case = AS.apply(case, "accept", OWNER, OPENED, ctx).case
    r = AS.apply(case, "record_return_shipment", BUYER, OPENED, ctx, {"tracking": "1Z999"})
    assert r.case.state == "in_progress" and r.case.return_tracking == "1Z999"
    assert r.arm == () and r.cancel == () and r.case.deadlines == case.deadlines
    refund = AS.apply(open_as(ctx).case, "accept", OWNER, OPENED, ctx).case
    with pytest.raises(GuardFailed, match="no parcel"):
        AS.apply(refund, "record_return_shipment", BUYER, OPENED, ctx, {"tracking": "1Z"})


def test_completion_missed_escalates(ctx: Context) -> None:  # rule AS-4, decision CW-4
    case = AS.apply(open_as(ctx).case, "accept", OWNER, OPENED, ctx).case
    due = case.deadline("completion")
    assert due is not None and due.due == utc(2026, 3, 25, 14)
    with pytest.raises(LateAction):
        AS.apply(case, "complete", OWNER, utc(2026, 3, 26), ctx, {"resolution": "x"})
    with pytest.raises(GuardFailed, match="acceptance period"):
        AS.apply(case, "escalate_late", BUYER, utc(2026, 3, 20), ctx)
    r = AS.fire(case, "completion", due.due, ctx)
    assert r.case.state == "escalated" and r.events[0].detail["cause"] == "completion_missed"


def test_completion_missed_notify_then_buyer_escalates(ctx: Context) -> None:  # rule AS-4
    note = with_policy(ctx, "aftersales", missed_completion_action="notify")
    case = AS.apply(open_as(note).case, "accept", OWNER, OPENED, note).case
    r = AS.fire(case, "completion", utc(2026, 3, 25, 14), note)
    assert r.case.state == "in_progress" and r.case.completion_overdue
    esc = AS.apply(r.case, "escalate_late", BUYER, utc(2026, 3, 26), note)
    assert esc.case.state == "escalated"
    # or, before the timer fired, once the deadline passed
    esc2 = AS.apply(case, "escalate_late", BUYER, utc(2026, 3, 26), note)
    assert esc2.case.state == "escalated"


@pytest.mark.parametrize("state_action", ["awaiting", "proposed", "no_agreement", "in_progress"])
def test_withdraw_from_every_open_state(ctx: Context, state_action: str) -> None:
    case = open_as(ctx).case
    prop = {"proposal": Proposal(AfterSalesKind.EXCHANGE, "swap"), "reason": "no"}
    step = {
        "awaiting": None,
        "proposed": "propose_alternative",
        "no_agreement": "reject",
        "in_progress": "accept",
    }[state_action]
    if step:
        case = AS.apply(case, step, OWNER, OPENED, ctx, prop).case
    r = AS.apply(case, "withdraw", BUYER, OPENED, ctx, {"reason": "sorted it out"})
    assert r.case.state == "withdrawn" and r.case.deadlines == ()
    assert len(r.cancel) == 1


def test_system_actor_cannot_take_seller_actions(ctx: Context) -> None:
    with pytest.raises(RoleNotAllowed):
        AS.apply(open_as(ctx).case, "accept", SYSTEM_ACTOR, OPENED, ctx)


def test_attachments_are_kept(ctx: Context) -> None:
    att = Attachment("f1", "photo.jpg", "image/jpeg")
    assert open_as(ctx, attachments=(att,)).case.attachments == (att,)
