"""Tickets (rules TKT-1, CHAT-5): the common envelope for requests to the platform or shop.

Sellers reach the platform with tickets (buyer misconduct reports, force majeure, appeals);
buyers through the help centre, or with a ticket to the shop when no agent is online
(CHAT-5, handled by the first agent who comes online). Every ticket sits in one team's queue
(policy ``tickets.routing``; ``shop`` means the shop's own queue ``shop:<shop id>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shopdesk.casework.machine import (
    BUYER,
    SELLER,
    SELLER_MANAGERS,
    STAFF,
    SYSTEM,
    Actor,
    CaseBase,
    Context,
    InvalidInput,
    Machine,
    Result,
    Role,
    State,
    Timer,
    Transition,
    open_case,
    require_text,
)
from shopdesk.casework.machine import apply as _apply
from shopdesk.casework.machine import fire as _fire
from shopdesk.casework.records import Attachment, Note


class TicketKind(StrEnum):
    MISCONDUCT_REPORT = "misconduct_report"  # seller reports a buyer
    FORCE_MAJEURE = "force_majeure"  # FM-4: applications go only through a ticket
    APPEAL = "appeal"  # APL-1, FM-7
    HELP_CENTRE = "help_centre"  # buyer to platform
    OFFLINE_SHOP = "offline_shop"  # CHAT-5: buyer to shop while no agent is online


# Who may open each kind (decision CW-16).
OPENERS: dict[TicketKind, frozenset[Role]] = {
    TicketKind.MISCONDUCT_REPORT: SELLER,
    TicketKind.FORCE_MAJEURE: SELLER_MANAGERS,
    TicketKind.APPEAL: SELLER_MANAGERS,
    TicketKind.HELP_CENTRE: BUYER,
    TicketKind.OFFLINE_SHOP: BUYER,
}
PRIORITIES = ("urgent", "high", "normal", "low")


@dataclass(frozen=True, kw_only=True)
class Ticket(CaseBase):
    kind: TicketKind
    requester_role: Role
    requester_id: str
    subject: str
    body: str
    queue: str
    priority: str = "normal"
    attachments: tuple[Attachment, ...] = ()
    assignee: str | None = None
    linked_case: str | None = None
    messages: tuple[Note, ...] = ()
    resolution: str | None = None
    resolved_at: datetime | None = None

    @property
    def handled_by_shop(self) -> bool:
        return self.kind is TicketKind.OFFLINE_SHOP


def route(kind: TicketKind, shop_id: str | None, ctx: Context) -> str:
    """Rule TKT-1: the team queue of a ticket kind."""
    team = ctx.policy.tickets.routing[kind.value]
    if team == "shop":
        if not shop_id:
            raise InvalidInput(f"a {kind.value} ticket needs the shop it is for")
        return f"shop:{shop_id}"
    return team


def queue(tickets: Iterable[Ticket], team: str) -> list[Ticket]:
    """The open tickets of a team queue, most urgent first, then oldest first."""
    open_states = {"open", "in_progress", "waiting_requester"}
    mine = [t for t in tickets if t.queue == team and t.state in open_states]
    return sorted(mine, key=lambda t: (PRIORITIES.index(t.priority), t.opened_at, t.id))


P = Mapping[str, Any]


def _g_handler(t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    if t.handled_by_shop:
        if actor.role not in SELLER:
            return "an offline-shop ticket is handled by the shop's team (CHAT-5)"
    elif actor.role is not Role.PLATFORM_STAFF:
        return "this ticket is handled by platform staff (TKT-1)"
    return None


def _g_requester(t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    if actor.role is Role.BUYER and actor.id != t.requester_id:
        return "only the requester may do this"
    if actor.role in SELLER and actor.shop_id != t.shop_id:
        return "only the requester's shop may do this"
    return require_text(p, "text")


def _g_reopen(t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    reason = _g_requester(t, actor, p, ctx, now)
    if reason:
        return reason
    limit = ctx.calendar.add_calendar_days(t.resolved_at or now, ctx.policy.tickets.reopen_days)
    return None if now <= limit else f"reopening was possible until {limit.isoformat()}"


def _g_handler_text(key: str) -> Any:
    def guard(t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
        return _g_handler(t, actor, p, ctx, now) or require_text(p, key)

    return guard


def _e_take(
    t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[Ticket, dict[str, Any]]:
    assignee = str(p.get("assignee") or actor.id)
    return replace(t, assignee=assignee), {"assignee": assignee}


def _e_message(audience: str) -> Any:
    def effect(
        t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime
    ) -> tuple[Ticket, dict[str, Any]]:
        note = Note(now, actor.id, p["text"].strip(), audience)
        return replace(t, messages=(*t.messages, note)), {"text": note.text}

    return effect


def _e_resolve(
    t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[Ticket, dict[str, Any]]:
    text = p["resolution"].strip()
    linked = p.get("linked_case") or t.linked_case
    return replace(t, resolution=text, resolved_at=now, linked_case=linked), {
        "resolution": text,
        "linked_case": linked,
    }


def _e_transfer(
    t: Ticket, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[Ticket, dict[str, Any]]:
    return replace(t, queue=p["queue"], assignee=None), {"queue": p["queue"]}


def _auto_close_due(t: Ticket, ctx: Context, now: datetime) -> datetime:
    return ctx.calendar.add_calendar_days(now, ctx.policy.tickets.auto_close_days)


HANDLERS = STAFF | SELLER
REQUESTERS = BUYER | SELLER

MACHINE: Machine[Ticket] = Machine(
    name="tickets",
    title="Ticket",
    initial="open",
    states=(
        State("open", "in the team queue, nobody has taken it"),
        State("in_progress", "a handler works on it"),
        State("waiting_requester", "the handler asked the requester"),
        State(
            "resolved",
            "answered; the requester may reopen",
            (Timer("auto_close", "auto_close", "CW-15", "3 days (policy)", _auto_close_due),),
        ),
        State("closed", "closed", terminal=True),
    ),
    transitions=(
        Transition(
            "take",
            ("open",),
            "in_progress",
            HANDLERS,
            "CHAT-5",
            "a handler (first agent online) takes it",
            guard=_g_handler,
            guard_text="handler of the ticket's side",
            effect=_e_take,
            params=("assignee?",),
        ),
        Transition(
            "transfer",
            ("open", "in_progress"),
            "open",
            STAFF,
            "TKT-1",
            "staff move it to another team queue",
            guard=lambda t, a, p, c, n: require_text(p, "queue"),
            guard_text="a queue",
            effect=_e_transfer,
            params=("queue",),
        ),
        Transition(
            "ask_requester",
            ("in_progress",),
            "waiting_requester",
            HANDLERS,
            "TKT-1",
            "handler asks the requester",
            guard=_g_handler_text("text"),
            guard_text="handler and a text",
            effect=_e_message("requester"),
            params=("text",),
        ),
        Transition(
            "reply",
            ("open", "in_progress", "waiting_requester"),
            "in_progress",
            REQUESTERS,
            "TKT-1",
            "requester adds information",
            guard=_g_requester,
            guard_text="the requester, with a text",
            effect=_e_message("handler"),
            params=("text",),
        ),
        Transition(
            "resolve",
            ("in_progress", "waiting_requester"),
            "resolved",
            HANDLERS,
            "TKT-1",
            "handler answers / resolves",
            guard=_g_handler_text("resolution"),
            guard_text="handler and a resolution",
            effect=_e_resolve,
            params=("resolution", "linked_case?"),
        ),
        Transition(
            "reopen",
            ("resolved",),
            "in_progress",
            REQUESTERS,
            "CW-15",
            "requester reopens within the reopen period",
            guard=_g_reopen,
            guard_text="the requester, within reopen_days",
            effect=_e_message("handler"),
            params=("text",),
        ),
        Transition("auto_close", ("resolved",), "closed", SYSTEM, "CW-15", "no reopening: closed"),
        Transition(
            "withdraw",
            ("open", "in_progress", "waiting_requester"),
            "closed",
            REQUESTERS,
            "TKT-1",
            "requester withdraws",
            guard=lambda t, a, p, c, n: _g_requester(t, a, {"text": "-"}, c, n),
            guard_text="the requester",
        ),
    ),
)


def open_ticket(
    *,
    case_id: str,
    kind: TicketKind,
    actor: Actor,
    now: datetime,
    ctx: Context,
    subject: str,
    body: str,
    shop_id: str | None = None,
    priority: str = "normal",
    attachments: tuple[Attachment, ...] = (),
    linked_case: str | None = None,
) -> Result[Ticket]:
    """Open a ticket in its team's queue (TKT-1). ``shop_id``: the shop a buyer writes to."""
    if actor.role not in OPENERS[kind]:
        who = "/".join(sorted(r.value for r in OPENERS[kind]))
        raise InvalidInput(f"a {kind.value} ticket is opened by {who}, not {actor.role.value}")
    if not subject.strip() or not body.strip():
        raise InvalidInput("a ticket needs a subject and a body")
    if priority not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {list(PRIORITIES)}")
    shop = actor.shop_id if actor.role in SELLER else shop_id
    ticket = Ticket(
        id=case_id,
        state=MACHINE.initial,
        opened_at=now,
        updated_at=now,
        buyer_id=actor.id if actor.role is Role.BUYER else None,
        shop_id=shop,
        kind=kind,
        requester_role=actor.role,
        requester_id=actor.id,
        subject=subject.strip(),
        body=body.strip(),
        queue=route(kind, shop, ctx),
        priority=priority,
        attachments=attachments,
        linked_case=linked_case,
    )
    detail = {"kind": kind.value, "queue": ticket.queue}
    return open_case(MACHINE, ticket, actor, ctx, "TKT-1", detail)


def apply(
    ticket: Ticket,
    action: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    params: Mapping[str, Any] | None = None,
) -> Result[Ticket]:
    return _apply(MACHINE, ticket, action, actor, now, ctx, params)


def fire(ticket: Ticket, deadline: str, now: datetime, ctx: Context) -> Result[Ticket]:
    return _fire(MACHINE, ticket, deadline, now, ctx)
