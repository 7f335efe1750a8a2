"""Tickets: the common envelope and per-team queues (rules TKT-1, CHAT-5)."""

from __future__ import annotations

import pytest
from cw_helpers import AGENT, BUYER, OTHER_BUYER, OTHER_SHOP, OWNER, STAFF, utc

from shopdesk.casework import tickets as TK
from shopdesk.casework.machine import (
    Context,
    GuardFailed,
    IllegalTransition,
    InvalidInput,
    NotAParty,
    Result,
    RoleNotAllowed,
)
from shopdesk.casework.tickets import Ticket, TicketKind

T0 = utc(2026, 3, 11, 14)


def open_t(
    ctx: Context, kind: TicketKind = TicketKind.MISCONDUCT_REPORT, **kw: object
) -> Result[Ticket]:
    args: dict[str, object] = {
        "case_id": "t-1",
        "kind": kind,
        "actor": AGENT,
        "now": T0,
        "ctx": ctx,
        "subject": "abusive buyer",
        "body": "see chat c-1",
    }
    args.update(kw)
    return TK.open_ticket(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "actor", "queue"),
    [
        (TicketKind.MISCONDUCT_REPORT, AGENT, "trust_and_safety"),
        (TicketKind.FORCE_MAJEURE, OWNER, "seller_operations"),
        (TicketKind.APPEAL, OWNER, "appeals"),
        (TicketKind.HELP_CENTRE, BUYER, "buyer_support"),
        (TicketKind.OFFLINE_SHOP, BUYER, "shop:s1"),
    ],
)
def test_routing(ctx: Context, kind: TicketKind, actor: object, queue: str) -> None:  # TKT-1
    r = open_t(ctx, kind, actor=actor, shop_id="s1")
    assert r.case.queue == queue and r.case.state == "open" and r.arm == ()


def test_open_refusals(ctx: Context) -> None:
    with pytest.raises(InvalidInput, match="seller_admin/seller_owner"):
        open_t(ctx, TicketKind.FORCE_MAJEURE)
    with pytest.raises(InvalidInput):
        open_t(ctx, TicketKind.HELP_CENTRE)
    with pytest.raises(InvalidInput, match="shop it is for"):
        open_t(ctx, TicketKind.OFFLINE_SHOP, actor=BUYER)
    with pytest.raises(InvalidInput, match="subject"):
        open_t(ctx, subject=" ")
    with pytest.raises(InvalidInput, match="priority"):
        open_t(ctx, priority="meh")


def test_platform_ticket_lifecycle(ctx: Context) -> None:  # TKT-1
    t = open_t(ctx).case
    with pytest.raises(GuardFailed, match="platform staff"):
        TK.apply(t, "take", OWNER, T0, ctx)
    t = TK.apply(t, "take", STAFF, T0, ctx).case
    assert t.state == "in_progress" and t.assignee == "staff1"
    t = TK.apply(t, "ask_requester", STAFF, T0, ctx, {"text": "which order?"}).case
    assert t.state == "waiting_requester"
    with pytest.raises(NotAParty):
        TK.apply(t, "reply", OTHER_SHOP, T0, ctx, {"text": "o-1"})
    t = TK.apply(t, "reply", OWNER, T0, ctx, {"text": "o-1"}).case
    assert t.state == "in_progress" and [m.audience for m in t.messages] == ["requester", "handler"]
    r = TK.apply(t, "resolve", STAFF, T0, ctx, {"resolution": "warned", "linked_case": "c-9"})
    assert r.case.state == "resolved" and r.arm[0].name == "auto_close"
    assert r.arm[0].due == utc(2026, 3, 14, 14) and r.case.linked_case == "c-9"
    re = TK.apply(r.case, "reopen", AGENT, utc(2026, 3, 12), ctx, {"text": "again"})
    assert re.case.state == "in_progress" and re.cancel == ("auto_close",)
    closed = TK.fire(r.case, "auto_close", utc(2026, 3, 14, 14), ctx)
    assert closed.case.state == "closed"
    with pytest.raises(IllegalTransition):
        TK.apply(closed.case, "reopen", AGENT, utc(2026, 3, 15), ctx, {"text": "x"})


def test_reopen_window(ctx: Context) -> None:  # decision CW-15
    t = TK.apply(open_t(ctx).case, "take", STAFF, T0, ctx).case
    t = TK.apply(t, "resolve", STAFF, T0, ctx, {"resolution": "done"}).case
    with pytest.raises(GuardFailed, match="reopening was possible until"):
        TK.apply(t, "reopen", AGENT, utc(2026, 3, 19), ctx, {"text": "x"})


def test_offline_shop_ticket_first_agent_takes_it(ctx: Context) -> None:  # CHAT-5
    t = open_t(ctx, TicketKind.OFFLINE_SHOP, actor=BUYER, shop_id="s1").case
    with pytest.raises(GuardFailed, match="shop's team"):
        TK.apply(t, "take", STAFF, T0, ctx)
    with pytest.raises(NotAParty):
        TK.apply(t, "take", OTHER_SHOP, T0, ctx)
    t2 = TK.apply(t, "take", AGENT, T0, ctx).case
    assert t2.assignee == "a1"
    with pytest.raises(NotAParty):
        TK.apply(t2, "reply", OTHER_BUYER, T0, ctx, {"text": "x"})
    done = TK.apply(t2, "resolve", AGENT, T0, ctx, {"resolution": "shipped today"})
    assert done.case.state == "resolved"


def test_transfer_withdraw_and_queue(ctx: Context) -> None:
    a = open_t(ctx, case_id="t-a").case
    b = open_t(ctx, case_id="t-b", priority="urgent", now=utc(2026, 3, 11, 15)).case
    c = open_t(ctx, case_id="t-c", now=utc(2026, 3, 11, 13)).case
    assert [t.id for t in TK.queue([a, b, c], "trust_and_safety")] == ["t-b", "t-c", "t-a"]
    with pytest.raises(RoleNotAllowed):
        TK.apply(a, "transfer", AGENT, T0, ctx, {"queue": "appeals"})
    moved = TK.apply(a, "transfer", STAFF, T0, ctx, {"queue": "appeals"}).case
    assert moved.queue == "appeals" and TK.queue([moved], "trust_and_safety") == []
    gone = TK.apply(c, "withdraw", OWNER, T0, ctx).case
    assert gone.state == "closed" and TK.queue([gone], "trust_and_safety") == []
