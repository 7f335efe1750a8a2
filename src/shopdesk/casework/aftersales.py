"""After-sales requests (rules AS-1 … AS-6, decision AS-D1) as a state machine.

Flow: the buyer opens a request from an order (AS-2, AS-6); the seller accepts, proposes an
alternative or rejects with a reason within the response deadline (AS-3: 2 business days for
refund requests); an accepted request is completed within the acceptance period (AS-4: 10
business days). Missed deadlines trigger the policy action (AS-D1). Terms are those shown at
order time and never less favourable than the platform's (AS-5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shopdesk.casework.machine import (
    BUYER,
    SELLER,
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
from shopdesk.casework.policy import PlatformTerms
from shopdesk.casework.records import Attachment


class AfterSalesKind(StrEnum):
    """Rule AS-1."""

    CANCELLATION = "cancellation"
    RETURN_AND_REFUND = "return_and_refund"
    REFUND_ONLY = "refund_only"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    TAILORED_PLAN = "tailored_plan"


REFUND_KINDS = frozenset(
    {AfterSalesKind.CANCELLATION, AfterSalesKind.RETURN_AND_REFUND, AfterSalesKind.REFUND_ONLY}
)
RETURN_KINDS = frozenset(
    {AfterSalesKind.RETURN_AND_REFUND, AfterSalesKind.EXCHANGE, AfterSalesKind.REPAIR}
)


@dataclass(frozen=True)
class Terms:
    """A shop's after-sales terms as shown on the product page (rule AS-5)."""

    cancellation_before_shipment: bool
    return_window_days: int
    refund_window_days: int
    exchange_window_days: int
    repair_window_days: int
    seller_pays_return_shipping_for_defects: bool


@dataclass(frozen=True)
class TermsViolation:
    field: str
    shop_value: Any
    platform_value: Any
    rule: str = "AS-5"

    def __str__(self) -> str:
        return (
            f"{self.field}: shop offers {self.shop_value!r}, less favourable than the "
            f"platform's {self.platform_value!r} ({self.rule})"
        )


def validate_terms(terms: Terms, platform: PlatformTerms) -> tuple[TermsViolation, ...]:
    """Rule AS-5: every term at least as favourable to the buyer as the platform's."""
    out: list[TermsViolation] = []
    for f in fields(Terms):
        mine, theirs = getattr(terms, f.name), getattr(platform, f.name)
        if mine < theirs:  # bool: False < True; int: fewer days
            out.append(TermsViolation(f.name, mine, theirs))
    return tuple(out)


def effective_terms(snapshot: Terms, platform: PlatformTerms) -> Terms:
    """The terms a request is judged by: the order-time snapshot, floored by the platform."""
    return Terms(
        **{f.name: max(getattr(snapshot, f.name), getattr(platform, f.name)) for f in fields(Terms)}
    )


@dataclass(frozen=True)
class OrderSnapshot:
    """The order as the server knows it, with the terms snapshot taken at order time."""

    order_id: str
    shop_id: str
    buyer_id: str
    placed_at: datetime
    amount_minor: int
    currency: str
    terms: Terms
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


def check_request(
    order: OrderSnapshot, kind: AfterSalesKind, now: datetime, ctx: Context
) -> str | None:
    """Rules AS-5/AS-6: the refusal reason, or None when the request may be opened.

    Windows are calendar days from delivery in the shop's time zone (decision CW-9); a
    cancellation is possible before shipment only; a refund-only request is possible while
    the parcel is not delivered (not received) or within the refund window after delivery.
    """
    terms = effective_terms(order.terms, ctx.policy.aftersales.platform_terms)
    if now < order.placed_at:
        return "the order was placed after this instant"
    if kind is AfterSalesKind.CANCELLATION:
        if not terms.cancellation_before_shipment:
            return "the order's terms do not allow cancellation (AS-5)"
        if order.shipped_at is not None and order.shipped_at <= now:
            return "the order has shipped: request a return and refund instead (AS-6)"
        return None
    if kind is AfterSalesKind.REFUND_ONLY and order.delivered_at is None:
        return None
    if order.delivered_at is None or order.delivered_at > now:
        return f"a {kind.value} request needs the order delivered first (AS-6)"
    window = {
        AfterSalesKind.RETURN_AND_REFUND: terms.return_window_days,
        AfterSalesKind.REFUND_ONLY: terms.refund_window_days,
        AfterSalesKind.EXCHANGE: terms.exchange_window_days,
        AfterSalesKind.REPAIR: terms.repair_window_days,
        AfterSalesKind.TAILORED_PLAN: terms.repair_window_days,
    }[kind]
    limit = ctx.calendar.add_calendar_days(order.delivered_at, window)
    if now > limit:
        return (
            f"the {kind.value} window of {window} days after delivery ended "
            f"{limit.isoformat()} (AS-6)"
        )
    return None


@dataclass(frozen=True)
class Proposal:
    """A seller's alternative (tailored plan, AS-1): another kind and/or a partial amount."""

    kind: AfterSalesKind
    text: str
    amount_minor: int | None = None


@dataclass(frozen=True, kw_only=True)
class AfterSalesCase(CaseBase):
    order: OrderSnapshot
    kind: AfterSalesKind
    reason: str
    description: str = ""
    attachments: tuple[Attachment, ...] = ()
    requested_amount_minor: int | None = None
    alternative: Proposal | None = None
    seller_reason: str | None = None
    buyer_reason: str | None = None
    return_tracking: str | None = None
    resolution: str | None = None
    outcome: str | None = None
    response_overdue: bool = False
    completion_overdue: bool = False


# ---------------------------------------------------------------- deadlines


def _response_due(case: AfterSalesCase, ctx: Context, now: datetime) -> datetime:
    s = ctx.policy.aftersales
    n = (
        s.refund_response_business_days
        if case.kind in REFUND_KINDS
        else s.other_response_business_days
    )
    return ctx.calendar.add_business_days(now, n)


def _completion_due(case: AfterSalesCase, ctx: Context, now: datetime) -> datetime:
    return ctx.calendar.add_business_days(now, ctx.policy.aftersales.completion_business_days)


def _buyer_reply_due(case: AfterSalesCase, ctx: Context, now: datetime) -> datetime:
    return ctx.calendar.add_calendar_days(now, ctx.policy.aftersales.buyer_reply_days)


def _escalation_due(case: AfterSalesCase, ctx: Context, now: datetime) -> datetime:
    return ctx.calendar.add_calendar_days(now, ctx.policy.aftersales.escalation_window_days)


# ---------------------------------------------------------------- guards and effects

P = Mapping[str, Any]


def _g_reason(case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    return require_text(p, "reason")


def _g_proposal(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> str | None:
    prop = p.get("proposal")
    if not isinstance(prop, Proposal):
        return "proposal (a Proposal) is required"
    if not prop.text.strip():
        return "the proposal needs a text for the buyer"
    if prop.amount_minor is not None and not 0 < prop.amount_minor <= case.order.amount_minor:
        return "the proposed amount must be positive and at most the order amount"
    return None


def _g_returnable(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> str | None:
    kind = case.alternative.kind if case.alternative else case.kind
    if kind not in RETURN_KINDS:
        return f"a {kind.value} request has no parcel to send back"
    return require_text(p, "tracking")


def _g_completion_late(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> str | None:
    dl = case.deadline("completion")
    if case.completion_overdue or (dl is not None and now > dl.due):
        return None
    due = dl.due.isoformat() if dl else "unknown"
    return f"the acceptance period (AS-4) runs until {due}; the buyer may escalate only after it"


def _g_policy(setting: str, value: str) -> Any:
    def guard(case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
        actual = getattr(ctx.policy.aftersales, setting)
        return None if actual == value else f"policy {setting} is {actual!r}"

    return guard


def _e_set(**static: Any) -> Any:
    """Effect: set static fields plus fields named in params → case fields."""

    def effect(
        case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
    ) -> tuple[AfterSalesCase, dict[str, Any]]:
        return replace(case, **static), {k: v for k, v in static.items() if k != "alternative"}

    return effect


def _e_reject(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[AfterSalesCase, dict[str, Any]]:
    return replace(case, seller_reason=p["reason"].strip()), {"reason": p["reason"].strip()}


def _e_propose(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[AfterSalesCase, dict[str, Any]]:
    prop: Proposal = p["proposal"]
    detail = {"kind": prop.kind.value, "text": prop.text, "amount_minor": prop.amount_minor}
    return replace(case, alternative=prop), detail


def _e_buyer_reason(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[AfterSalesCase, dict[str, Any]]:
    reason = str(p.get("reason") or "").strip() or None
    return replace(case, buyer_reason=reason), {"reason": reason}


def _e_outcome(outcome: str, **extra: Any) -> Any:
    def effect(
        case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
    ) -> tuple[AfterSalesCase, dict[str, Any]]:
        reason = str(p.get("reason") or "").strip() or None
        detail: dict[str, Any] = {"outcome": outcome, **extra}
        if reason:
            detail["reason"] = reason
        return replace(case, outcome=outcome, buyer_reason=reason or case.buyer_reason), detail

    return effect


def _e_tracking(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[AfterSalesCase, dict[str, Any]]:
    return replace(case, return_tracking=p["tracking"].strip()), {"tracking": p["tracking"]}


def _e_complete(
    case: AfterSalesCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[AfterSalesCase, dict[str, Any]]:
    text = p["resolution"].strip()
    return replace(case, resolution=text, outcome="completed"), {"resolution": text}


# ---------------------------------------------------------------- the machine

AWAITING = "awaiting_seller"
MACHINE: Machine[AfterSalesCase] = Machine(
    name="aftersales",
    title="After-sales request",
    initial=AWAITING,
    states=(
        State(
            AWAITING,
            "opened by the buyer; the seller must respond",
            (
                Timer(
                    "seller_response",
                    "miss_seller_response",
                    "AS-3",
                    "2 business days (refund kinds; policy)",
                    _response_due,
                ),
            ),
        ),
        State(
            "alternative_proposed",
            "the seller proposed another solution; the buyer answers",
            (
                Timer(
                    "buyer_reply",
                    "buyer_reply_missed",
                    "CW-3",
                    "3 calendar days (policy)",
                    _buyer_reply_due,
                ),
            ),
        ),
        State(
            "no_agreement",
            "the seller rejected or the buyer declined; the buyer may escalate",
            (
                Timer(
                    "escalation_window",
                    "escalation_window_missed",
                    "CW-5",
                    "7 calendar days (policy)",
                    _escalation_due,
                ),
            ),
        ),
        State(
            "in_progress",
            "accepted; the seller completes the return/refund/exchange/repair",
            (
                Timer(
                    "completion",
                    "miss_completion",
                    "AS-4",
                    "10 business days (policy)",
                    _completion_due,
                ),
            ),
        ),
        State("completed", "handled by the seller", terminal=True),
        State("escalated", "handed to the platform's dispute service (DSP-1)", terminal=True),
        State("withdrawn", "withdrawn by the buyer", terminal=True),
        State("closed", "closed without a solution (lapsed)", terminal=True),
    ),
    transitions=(
        Transition(
            "accept",
            (AWAITING,),
            "in_progress",
            SELLER,
            "AS-2",
            "seller accepts the request",
            effect=_e_set(),
            deadline_bound="seller_response",
        ),
        Transition(
            "propose_alternative",
            (AWAITING,),
            "alternative_proposed",
            SELLER,
            "AS-1",
            "seller proposes a tailored plan",
            guard=_g_proposal,
            guard_text="a proposal with a text",
            effect=_e_propose,
            deadline_bound="seller_response",
            params=("proposal",),
        ),
        Transition(
            "reject",
            (AWAITING,),
            "no_agreement",
            SELLER,
            "AS-2",
            "seller rejects with a reason",
            guard=_g_reason,
            guard_text="a reason",
            effect=_e_reject,
            deadline_bound="seller_response",
            params=("reason",),
        ),
        Transition(
            "miss_seller_response",
            (AWAITING,),
            "escalated",
            SYSTEM,
            "AS-D1",
            "response deadline missed: escalate",
            guard=_g_policy("missed_response_action", "escalate"),
            guard_text="policy missed_response_action = escalate",
            effect=_e_outcome("escalated", cause="seller_response_missed"),
        ),
        Transition(
            "miss_seller_response",
            (AWAITING,),
            "in_progress",
            SYSTEM,
            "AS-D1",
            "response deadline missed: accept automatically",
            guard=_g_policy("missed_response_action", "auto_accept"),
            guard_text="policy missed_response_action = auto_accept",
            effect=_e_set(response_overdue=True),
        ),
        Transition(
            "miss_seller_response",
            (AWAITING,),
            None,
            SYSTEM,
            "AS-D1",
            "response deadline missed: flag only",
            guard=_g_policy("missed_response_action", "notify"),
            guard_text="policy missed_response_action = notify",
            effect=_e_set(response_overdue=True),
        ),
        Transition(
            "accept_alternative",
            ("alternative_proposed",),
            "in_progress",
            BUYER,
            "AS-1",
            "buyer accepts the proposal",
            effect=_e_set(),
            deadline_bound="buyer_reply",
        ),
        Transition(
            "decline_alternative",
            ("alternative_proposed",),
            "no_agreement",
            BUYER,
            "AS-2",
            "buyer declines the proposal",
            effect=_e_buyer_reason,
            deadline_bound="buyer_reply",
            params=("reason?",),
        ),
        Transition(
            "buyer_reply_missed",
            ("alternative_proposed",),
            "closed",
            SYSTEM,
            "CW-3",
            "the buyer did not answer the proposal",
            effect=_e_outcome("lapsed"),
        ),
        Transition(
            "escalate",
            ("no_agreement",),
            "escalated",
            BUYER,
            "DSP-1",
            "buyer escalates to the platform",
            effect=_e_outcome("escalated", cause="no_agreement"),
            deadline_bound="escalation_window",
            params=("reason?",),
        ),
        Transition(
            "escalation_window_missed",
            ("no_agreement",),
            "closed",
            SYSTEM,
            "CW-5",
            "the buyer did not escalate in time",
            effect=_e_outcome("lapsed"),
        ),
        Transition(
            "record_return_shipment",
            ("in_progress",),
            None,
            BUYER,
            "AS-2",
            "buyer records the return parcel",
            guard=_g_returnable,
            guard_text="a kind with a parcel and a tracking number",
            effect=_e_tracking,
            params=("tracking",),
        ),
        Transition(
            "complete",
            ("in_progress",),
            "completed",
            SELLER,
            "AS-4",
            "seller completes the request",
            guard=lambda c, a, p, x, n: require_text(p, "resolution"),
            guard_text="a resolution text",
            effect=_e_complete,
            deadline_bound="completion",
            params=("resolution",),
        ),
        Transition(
            "miss_completion",
            ("in_progress",),
            "escalated",
            SYSTEM,
            "AS-4",
            "acceptance period missed: escalate",
            guard=_g_policy("missed_completion_action", "escalate"),
            guard_text="policy missed_completion_action = escalate",
            effect=_e_outcome("escalated", cause="completion_missed"),
        ),
        Transition(
            "miss_completion",
            ("in_progress",),
            None,
            SYSTEM,
            "AS-4",
            "acceptance period missed: flag; the buyer may escalate",
            guard=_g_policy("missed_completion_action", "notify"),
            guard_text="policy missed_completion_action = notify",
            effect=_e_set(completion_overdue=True),
        ),
        Transition(
            "escalate_late",
            ("in_progress",),
            "escalated",
            BUYER,
            "AS-4",
            "buyer escalates a late request",
            guard=_g_completion_late,
            guard_text="the acceptance period has passed",
            effect=_e_outcome("escalated", cause="completion_late"),
            params=("reason?",),
        ),
        Transition(
            "withdraw",
            (AWAITING, "alternative_proposed", "no_agreement", "in_progress"),
            "withdrawn",
            BUYER,
            "AS-2",
            "buyer withdraws the request",
            effect=_e_outcome("withdrawn"),
            params=("reason?",),
        ),
    ),
)


def open_request(
    *,
    case_id: str,
    order: OrderSnapshot,
    kind: AfterSalesKind,
    reason: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    description: str = "",
    attachments: tuple[Attachment, ...] = (),
    requested_amount_minor: int | None = None,
) -> Result[AfterSalesCase]:
    """The buyer opens a request from an order (AS-2); refused outside AS-5/AS-6 limits."""
    if actor.role is not Role.BUYER or actor.id != order.buyer_id:
        raise InvalidInput("only the order's buyer opens an after-sales request (AS-2)")
    if not reason.strip():
        raise InvalidInput("a reason is required (AS-2)")
    refusal = check_request(order, kind, now, ctx)
    if refusal:
        raise InvalidInput(refusal)
    if requested_amount_minor is not None and not 0 < requested_amount_minor <= order.amount_minor:
        raise InvalidInput("the requested amount must be positive and at most the order amount")
    case = AfterSalesCase(
        id=case_id,
        state=MACHINE.initial,
        opened_at=now,
        updated_at=now,
        buyer_id=order.buyer_id,
        shop_id=order.shop_id,
        order=order,
        kind=kind,
        reason=reason.strip(),
        description=description,
        attachments=attachments,
        requested_amount_minor=requested_amount_minor,
    )
    detail: dict[str, Any] = {"kind": kind.value, "order": order.order_id, "reason": case.reason}
    violations = validate_terms(order.terms, ctx.policy.aftersales.platform_terms)
    if violations:  # AS-5: the request is judged by the platform's terms; flag the shop
        detail["terms_below_platform"] = [str(v) for v in violations]
    return open_case(MACHINE, case, actor, ctx, "AS-2", detail)


def apply(
    case: AfterSalesCase,
    action: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    params: Mapping[str, Any] | None = None,
) -> Result[AfterSalesCase]:
    return _apply(MACHINE, case, action, actor, now, ctx, params)


def fire(
    case: AfterSalesCase, deadline: str, now: datetime, ctx: Context
) -> Result[AfterSalesCase]:
    return _fire(MACHINE, case, deadline, now, ctx)
