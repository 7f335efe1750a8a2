"""Disputes: evidence, review, decision, one appeal, no-service reports (DSP-1 … DSP-4)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cw_helpers import BUYER, OPENED, OTHER_SHOP, OWNER, STAFF, open_as, utc, with_policy

from shopdesk.casework import aftersales as AS
from shopdesk.casework import disputes as D
from shopdesk.casework.disputes import ChatMaterial, DisputeCase, DisputeKind
from shopdesk.casework.machine import (
    SYSTEM_ACTOR,
    Context,
    GuardFailed,
    IllegalTransition,
    InvalidInput,
    LateAction,
    NotAParty,
    Result,
    RoleNotAllowed,
)
from shopdesk.casework.records import Attachment

T0 = utc(2026, 3, 20, 12)
PHOTO = Attachment("f1", "crack.jpg", "image/jpeg")


def escalated(ctx: Context) -> AS.AfterSalesCase:
    case = open_as(ctx, attachments=(PHOTO,)).case
    case = AS.apply(case, "reject", OWNER, OPENED, ctx, {"reason": "damage by buyer"}).case
    return AS.apply(case, "escalate", BUYER, utc(2026, 3, 12), ctx).case


def open_d(ctx: Context, **kw: object) -> Result[DisputeCase]:
    args: dict[str, object] = {
        "case_id": "d-1",
        "actor": BUYER,
        "now": T0,
        "ctx": ctx,
        "claim": "the vase arrived broken",
        "order_id": "o-1",
        "shop_id": "s1",
        "order_amount_minor": 5000,
        "first_request": escalated(ctx),
        "chat": (
            ChatMaterial("m2", "seller", utc(2026, 3, 10), "not our fault"),
            ChatMaterial("m1", "buyer", utc(2026, 3, 9), None, PHOTO),
            ChatMaterial("m9", "buyer", utc(2026, 3, 30), "future"),
        ),
    }
    args.update(kw)
    return D.open_dispute(**args)  # type: ignore[arg-type]


def reviewed(ctx: Context) -> DisputeCase:
    return D.apply(open_d(ctx).case, "start_review", STAFF, T0, ctx).case


DECIDE = {"outcome": "refund_full", "reason": "photos show transit damage"}


def test_open_attaches_first_request_and_chat(ctx: Context) -> None:  # rule DSP-2
    r = open_d(ctx)
    c = r.case
    assert c.state == "collecting_evidence"
    assert r.arm[0].name == "evidence_window" and r.arm[0].due == utc(2026, 3, 23, 12)
    sources = [(e.source, e.party, e.kind) for e in c.evidence]
    assert sources == [
        ("first_request", "buyer", "statement"),
        ("first_request", "buyer", "file"),
        ("first_request", "seller", "statement"),
        ("chat", "buyer", "file"),
        ("chat", "seller", "statement"),
    ]
    assert all(e.auto and e.primary for e in c.evidence)
    assert r.events[0].detail["auto_evidence"] == 5


def test_system_opens_after_automatic_escalation(ctx: Context) -> None:  # decision AS-D1
    auto = AS.fire(open_as(ctx).case, "seller_response", utc(2026, 3, 13, 14), ctx).case
    assert auto.state == "escalated"
    r = open_d(ctx, actor=SYSTEM_ACTOR, first_request=auto, chat=())
    assert r.case.buyer_id == "b1" and r.events[0].actor_role == "system"
    with pytest.raises(InvalidInput):
        open_d(ctx, actor=SYSTEM_ACTOR, first_request=None)


def test_open_refusals(ctx: Context) -> None:  # rule DSP-1
    with pytest.raises(InvalidInput, match="only the buyer"):
        open_d(ctx, actor=OWNER)
    with pytest.raises(InvalidInput, match="claim"):
        open_d(ctx, claim="")
    with pytest.raises(InvalidInput, match="not escalated"):
        open_d(ctx, first_request=open_as(ctx).case)
    with pytest.raises(InvalidInput, match="not this buyer"):
        open_d(ctx, order_id="o-2")


def test_evidence_is_append_only(ctx: Context) -> None:  # rule DSP-2
    c = open_d(ctx).case
    r = D.apply(c, "add_evidence", OWNER, T0, ctx, {"evidence_id": "e1", "text": "tracking shows"})
    ev = r.case.evidence[-1]
    assert (ev.party, ev.kind, ev.auto, ev.submitted_at) == ("seller", "statement", False, T0)
    with pytest.raises(InvalidInput, match="cannot be changed"):
        D.apply(r.case, "add_evidence", OWNER, T0, ctx, {"evidence_id": "e1", "text": "edit"})
    with pytest.raises(InvalidInput, match="text or a file"):
        D.apply(r.case, "add_evidence", BUYER, T0, ctx, {"evidence_id": "e2"})
    r2 = D.apply(r.case, "add_evidence", BUYER, T0, ctx, {"evidence_id": "e2", "attachment": PHOTO})
    assert r2.case.evidence[-1].kind == "file" and r2.case.evidence[:-1] == r.case.evidence
    with pytest.raises(NotAParty):
        D.apply(c, "add_evidence", OTHER_SHOP, T0, ctx, {"evidence_id": "e3", "text": "x"})
    with pytest.raises(RoleNotAllowed):
        D.apply(c, "add_evidence", STAFF, T0, ctx, {"evidence_id": "e3", "text": "x"})


def test_evidence_window_closes_into_review(ctx: Context) -> None:  # decision CW-6
    c = open_d(ctx).case
    r = D.fire(c, "evidence_window", utc(2026, 3, 23, 12), ctx)
    assert r.case.state == "under_review"
    assert r.arm[0].name == "review" and r.arm[0].due == utc(2026, 3, 25, 12)


def test_start_review_early_and_roles(ctx: Context) -> None:  # rule DSP-4
    c = open_d(ctx).case
    with pytest.raises(RoleNotAllowed):
        D.apply(c, "start_review", BUYER, T0, ctx)
    r = D.apply(c, "start_review", STAFF, T0, ctx)
    assert r.case.state == "under_review" and r.cancel == ("evidence_window",)


def test_review_overdue_flags(ctx: Context) -> None:  # rule DSP-3
    c = reviewed(ctx)
    r = D.fire(c, "review", utc(2026, 3, 22, 12), ctx)
    assert r.case.state == "under_review" and r.case.review_overdue
    assert r.events[0].detail["notify"] == "platform_supervisors"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"outcome": "maybe", "reason": "x"}, "outcome must be"),
        ({"outcome": "reject", "reason": " "}, "written reason"),
        ({"outcome": "refund_partial", "reason": "x"}, "amount_minor between"),
        ({"outcome": "refund_partial", "reason": "x", "amount_minor": 5000}, "amount_minor"),
        ({"outcome": "reject", "reason": "x", "amount_minor": 10}, "only for refund_partial"),
    ],
)
def test_decision_guards(ctx: Context, params: dict[str, object], needle: str) -> None:
    with pytest.raises(GuardFailed, match=needle):
        D.apply(reviewed(ctx), "decide", STAFF, T0, ctx, params)


@pytest.mark.parametrize("outcome", ["refund_full", "reject", "return_first"])
def test_decide_then_accept(ctx: Context, outcome: str) -> None:  # rule DSP-4
    r = D.apply(reviewed(ctx), "decide", STAFF, T0, ctx, {"outcome": outcome, "reason": "r"})
    assert r.case.state == "decided" and r.case.decision is not None
    assert r.case.decision.outcome.value == outcome
    assert r.arm[0].name == "appeal_window"
    with pytest.raises(RoleNotAllowed):
        D.apply(r.case, "accept_decision", OWNER, T0, ctx)
    done = D.apply(r.case, "accept_decision", BUYER, T0, ctx)
    assert done.case.state == "closed" and done.case.outcome == outcome


def test_partial_refund_and_window_lapse(ctx: Context) -> None:
    params = {"outcome": "refund_partial", "reason": "minor scratch", "amount_minor": 1500}
    r = D.apply(reviewed(ctx), "decide", STAFF, T0, ctx, params)
    assert r.case.decisions[0].amount_minor == 1500
    due = r.case.deadline("appeal_window")
    assert due is not None
    with pytest.raises(LateAction):
        D.apply(r.case, "appeal", BUYER, utc(2026, 3, 28), ctx, {"reason": "more"})
    final = D.fire(r.case, "appeal_window", due.due, ctx)
    assert final.case.state == "closed" and final.case.outcome == "refund_partial"


def test_one_appeal_then_final(ctx: Context) -> None:  # rule DSP-4
    c = D.apply(reviewed(ctx), "decide", STAFF, T0, ctx, {"outcome": "reject", "reason": "r"}).case
    with pytest.raises(RoleNotAllowed):
        D.apply(c, "appeal", OWNER, T0, ctx, {"reason": "x"})
    with pytest.raises(GuardFailed, match="reason"):
        D.apply(c, "appeal", BUYER, T0, ctx, {})
    a = D.apply(c, "appeal", BUYER, T0, ctx, {"reason": "new photos"})
    assert a.case.state == "appeal_review" and a.case.appeals_used == 1
    assert a.arm[0].name == "review"
    # evidence may still come in during the appeal
    a2 = D.apply(a.case, "add_evidence", BUYER, T0, ctx, {"evidence_id": "e9", "text": "see"})
    final = D.apply(a2.case, "decide_appeal", STAFF, T0, ctx, DECIDE)
    assert final.case.state == "closed" and final.case.outcome == "refund_full"
    assert final.case.decisions[-1].on_appeal
    with pytest.raises(IllegalTransition):
        D.apply(final.case, "appeal", BUYER, T0, ctx, {"reason": "again"})
    with pytest.raises(GuardFailed):
        D.apply(a.case, "decide_appeal", STAFF, T0, ctx, {"outcome": "reject"})


def test_more_appeals_by_policy(ctx: Context) -> None:
    two = with_policy(ctx, "disputes", max_appeals=2)
    c = D.apply(reviewed(two), "decide", STAFF, T0, two, DECIDE).case
    c = D.apply(c, "appeal", BUYER, T0, two, {"reason": "1"}).case
    c = D.apply(c, "decide_appeal", STAFF, T0, two, DECIDE).case
    assert c.state == "decided"
    c = D.apply(c, "appeal", BUYER, T0, two, {"reason": "2"}).case
    assert D.apply(c, "decide_appeal", STAFF, T0, two, DECIDE).case.state == "closed"
    none = with_policy(ctx, "disputes", max_appeals=0)
    c = D.apply(reviewed(none), "decide", STAFF, T0, none, DECIDE).case
    with pytest.raises(GuardFailed, match="used the 0 appeal"):
        D.apply(c, "appeal", BUYER, T0, none, {"reason": "x"})


def test_appeal_review_overdue(ctx: Context) -> None:
    c = D.apply(reviewed(ctx), "decide", STAFF, T0, ctx, DECIDE).case
    c = D.apply(c, "appeal", BUYER, T0, ctx, {"reason": "x"}).case
    r = D.fire(c, "review", utc(2026, 3, 22, 12), ctx)
    assert r.case.review_overdue and r.case.state == "appeal_review"


def test_no_service_report_reviewed_within_48h(ctx: Context) -> None:  # rule DSP-3
    req = open_as(ctx).case
    r = open_d(ctx, kind=DisputeKind.NO_SERVICE, first_request=req, chat=())
    assert r.case.state == "under_review" and r.events[0].rule == "DSP-3"
    assert r.arm[0].name == "review" and r.arm[0].due == utc(2026, 3, 22, 12)
    assert r.case.evidence[0].source == "first_request"
    slow = with_policy(ctx, "disputes", no_service_review_hours=24, review_hours=96)
    assert open_d(slow, kind=DisputeKind.NO_SERVICE, chat=()).arm[0].due == utc(2026, 3, 21, 12)


def test_withdraw(ctx: Context) -> None:
    r = D.apply(open_d(ctx).case, "withdraw", BUYER, T0, ctx)
    assert r.case.state == "withdrawn" and r.case.outcome == "withdrawn"
    assert r.cancel == ("evidence_window",)
    with pytest.raises(RoleNotAllowed):
        D.apply(reviewed(ctx), "withdraw", STAFF, T0, ctx)
    decided = D.apply(reviewed(ctx), "decide", STAFF, T0, ctx, DECIDE).case
    with pytest.raises(IllegalTransition):
        D.apply(decided, "withdraw", BUYER, T0, ctx)
    assert replace(decided, appeals_used=1).appeals_used == 1
