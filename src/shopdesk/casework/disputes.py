"""Disputes (rules DSP-1 … DSP-4): the platform arbitrates between buyer and seller.

Flow (DSP-4): form and evidence → submit → review → decision → feedback; the buyer may
appeal once (policy ``max_appeals``). Evidence is immutable once submitted; material from the
first after-sales request and from the chat is attached automatically and marked as such, and
weighs most (DSP-2). A "no after-sales service" report goes straight to review, within 48
hours (DSP-3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shopdesk.casework.aftersales import AfterSalesCase
from shopdesk.casework.business_days import add_hours
from shopdesk.casework.machine import (
    BUYER,
    SELLER,
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
)
from shopdesk.casework.machine import apply as _apply
from shopdesk.casework.machine import fire as _fire
from shopdesk.casework.records import Attachment, Evidence, evidence_from_params


class DisputeKind(StrEnum):
    AFTER_SALES = "after_sales"  # DSP-1: escalated after-sales request
    NO_SERVICE = "no_service"  # DSP-3: the seller gave no after-sales service


class Outcome(StrEnum):
    REFUND_FULL = "refund_full"
    REFUND_PARTIAL = "refund_partial"
    REJECT = "reject"
    RETURN_FIRST = "return_first"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    decided_by: str
    decided_at: datetime
    amount_minor: int | None = None
    on_appeal: bool = False


@dataclass(frozen=True)
class ChatMaterial:
    """A chat message or file from the order's conversation, for DSP-2 auto-attachment."""

    message_id: str
    sender: str  # buyer | seller
    at: datetime
    text: str | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True, kw_only=True)
class DisputeCase(CaseBase):
    kind: DisputeKind
    order_id: str
    order_amount_minor: int
    claim: str
    after_sales_id: str | None = None
    evidence: tuple[Evidence, ...] = ()
    decisions: tuple[Decision, ...] = ()
    appeals_used: int = 0
    appeal_reason: str | None = None
    review_overdue: bool = False
    outcome: str | None = None

    @property
    def decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None


def _review_due(case: DisputeCase, ctx: Context, now: datetime) -> datetime:
    s = ctx.policy.disputes
    hours = s.no_service_review_hours if case.kind is DisputeKind.NO_SERVICE else s.review_hours
    return add_hours(now, hours)


def _evidence_due(case: DisputeCase, ctx: Context, now: datetime) -> datetime:
    return add_hours(now, ctx.policy.disputes.evidence_window_hours)


def _appeal_due(case: DisputeCase, ctx: Context, now: datetime) -> datetime:
    return ctx.calendar.add_calendar_days(now, ctx.policy.disputes.appeal_window_days)


P = Mapping[str, Any]


def _g_decision(case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    try:
        outcome = Outcome(str(p.get("outcome")))
    except ValueError:
        return f"outcome must be one of {[o.value for o in Outcome]}"
    reason = p.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return "a written reason is required (DSP-4)"
    amount = p.get("amount_minor")
    if outcome is Outcome.REFUND_PARTIAL:
        if not isinstance(amount, int) or not 0 < amount < case.order_amount_minor:
            return "refund_partial needs amount_minor between 0 and the order amount (exclusive)"
    elif amount is not None:
        return f"amount_minor is only for refund_partial, not {outcome.value}"
    return None


def _appeals_left(case: DisputeCase, ctx: Context) -> int:
    return ctx.policy.disputes.max_appeals - case.appeals_used


def _g_appeal(case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    if _appeals_left(case, ctx) <= 0:
        return f"the buyer has used the {ctx.policy.disputes.max_appeals} appeal(s) (DSP-4)"
    reason = p.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return "a reason for the appeal is required"
    return None


def _g_appeals_remain(
    case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> str | None:
    return _g_decision(case, actor, p, ctx, now) or (
        None if _appeals_left(case, ctx) > 0 else "no further appeal remains"
    )


def _g_final(case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    return _g_decision(case, actor, p, ctx, now) or (
        None if _appeals_left(case, ctx) <= 0 else "further appeals remain"
    )


def _party(actor: Actor) -> str:
    return "buyer" if actor.role is Role.BUYER else "seller"


def _e_evidence(
    case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[DisputeCase, dict[str, Any]]:
    ev = evidence_from_params(p, _party(actor), actor.id, now, case.evidence)
    return replace(case, evidence=(*case.evidence, ev)), {"evidence_id": ev.id, "kind": ev.kind}


def _e_decide(
    case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[DisputeCase, dict[str, Any]]:
    d = Decision(
        Outcome(p["outcome"]),
        p["reason"].strip(),
        actor.id,
        now,
        p.get("amount_minor"),
        on_appeal=case.appeals_used > 0,
    )
    detail = {"outcome": d.outcome.value, "reason": d.reason, "amount_minor": d.amount_minor}
    return replace(case, decisions=(*case.decisions, d), review_overdue=False), detail


def _e_appeal(
    case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[DisputeCase, dict[str, Any]]:
    reason = p["reason"].strip()
    return replace(case, appeals_used=case.appeals_used + 1, appeal_reason=reason), {
        "reason": reason
    }


def _e_flag(
    case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime
) -> tuple[DisputeCase, dict[str, Any]]:
    return replace(case, review_overdue=True), {"notify": "platform_supervisors"}


def _e_outcome(outcome: str) -> Any:
    def effect(
        case: DisputeCase, actor: Actor, p: P, ctx: Context, now: datetime
    ) -> tuple[DisputeCase, dict[str, Any]]:
        final = case.decision.outcome.value if case.decision else outcome
        return replace(case, outcome=final if outcome == "decided" else outcome), {
            "outcome": final if outcome == "decided" else outcome
        }

    return effect


REVIEW_TIMER: Timer[DisputeCase] = Timer(
    "review", "review_overdue", "DSP-3", "48 hours (policy)", _review_due
)
EVIDENCE_STATES = ("collecting_evidence", "under_review", "appeal_review")

MACHINE: Machine[DisputeCase] = Machine(
    name="disputes",
    title="Dispute",
    initial="collecting_evidence",
    states=(
        State(
            "collecting_evidence",
            "both sides submit evidence",
            (
                Timer(
                    "evidence_window",
                    "close_evidence",
                    "CW-6",
                    "72 hours (policy)",
                    _evidence_due,
                ),
            ),
        ),
        State("under_review", "platform staff review the evidence", (REVIEW_TIMER,)),
        State(
            "decided",
            "decision sent to both sides; the buyer may appeal",
            (Timer("appeal_window", "appeal_window_missed", "DSP-4", "7 days", _appeal_due),),
        ),
        State("appeal_review", "platform staff review the buyer's appeal", (REVIEW_TIMER,)),
        State("closed", "decision final", terminal=True),
        State("withdrawn", "withdrawn by the buyer", terminal=True),
    ),
    transitions=(
        Transition(
            "add_evidence",
            EVIDENCE_STATES,
            None,
            BUYER | SELLER,
            "DSP-2",
            "a side adds a file or statement (immutable)",
            guard_text="a new evidence id with a text or a file",
            effect=_e_evidence,
            params=("evidence_id", "text?", "attachment?"),
        ),
        Transition(
            "start_review",
            ("collecting_evidence",),
            "under_review",
            STAFF,
            "DSP-4",
            "staff start the review early",
        ),
        Transition(
            "close_evidence",
            ("collecting_evidence",),
            "under_review",
            SYSTEM,
            "CW-6",
            "evidence window over",
        ),
        Transition(
            "review_overdue",
            ("under_review", "appeal_review"),
            None,
            SYSTEM,
            "DSP-3",
            "review deadline missed: flag and notify supervisors",
            effect=_e_flag,
        ),
        Transition(
            "decide",
            ("under_review",),
            "decided",
            STAFF,
            "DSP-4",
            "staff decide with a written reason",
            guard=_g_decision,
            guard_text="outcome, written reason, amount for refund_partial",
            effect=_e_decide,
            params=("outcome", "reason", "amount_minor?"),
        ),
        Transition(
            "appeal",
            ("decided",),
            "appeal_review",
            BUYER,
            "DSP-4",
            "buyer appeals once",
            guard=_g_appeal,
            guard_text="an appeal left and a reason",
            effect=_e_appeal,
            deadline_bound="appeal_window",
            params=("reason",),
        ),
        Transition(
            "accept_decision",
            ("decided",),
            "closed",
            BUYER,
            "DSP-4",
            "buyer accepts the decision",
            effect=_e_outcome("decided"),
        ),
        Transition(
            "appeal_window_missed",
            ("decided",),
            "closed",
            SYSTEM,
            "DSP-4",
            "no appeal in time: decision final",
            effect=_e_outcome("decided"),
        ),
        Transition(
            "decide_appeal",
            ("appeal_review",),
            "decided",
            STAFF,
            "DSP-4",
            "staff decide the appeal (appeals remain)",
            guard=_g_appeals_remain,
            guard_text="valid decision and appeals remain",
            effect=_e_decide,
            params=("outcome", "reason", "amount_minor?"),
        ),
        Transition(
            "decide_appeal",
            ("appeal_review",),
            "closed",
            STAFF,
            "DSP-4",
            "staff decide the appeal (final)",
            guard=_g_final,
            guard_text="valid decision and no appeal remains",
            effect=lambda c, a, p, x, n: _finalise(*_e_decide(c, a, p, x, n)),
            params=("outcome", "reason", "amount_minor?"),
        ),
        Transition(
            "withdraw",
            ("collecting_evidence", "under_review"),
            "withdrawn",
            BUYER,
            "DSP-4",
            "buyer withdraws the dispute",
            effect=_e_outcome("withdrawn"),
        ),
    ),
)


def _finalise(case: DisputeCase, detail: dict[str, Any]) -> tuple[DisputeCase, dict[str, Any]]:
    return replace(case, outcome=detail["outcome"]), detail


def auto_evidence(
    now: datetime,
    first_request: AfterSalesCase | None,
    chat: Sequence[ChatMaterial],
) -> tuple[Evidence, ...]:
    """Rule DSP-2: first-request and chat material, attached by the system, marked primary."""
    out: list[Evidence] = []
    if first_request is not None:
        fr = first_request
        statement = f"{fr.kind.value}: {fr.reason}" + (
            f"\n{fr.description}" if fr.description else ""
        )
        out.append(
            Evidence(
                f"auto:first_request:{fr.id}",
                "buyer",
                "statement",
                fr.opened_at,
                "system",
                statement,
                None,
                auto=True,
                source="first_request",
                primary=True,
            )
        )
        for att in fr.attachments:
            out.append(
                Evidence(
                    f"auto:first_request:{fr.id}:{att.id}",
                    "buyer",
                    "file",
                    fr.opened_at,
                    "system",
                    None,
                    att,
                    auto=True,
                    source="first_request",
                    primary=True,
                )
            )
        if fr.seller_reason:
            out.append(
                Evidence(
                    f"auto:first_request:{fr.id}:seller_reason",
                    "seller",
                    "statement",
                    fr.updated_at,
                    "system",
                    fr.seller_reason,
                    auto=True,
                    source="first_request",
                    primary=True,
                )
            )
    for m in sorted(chat, key=lambda m: m.at):
        if m.at > now:
            continue
        out.append(
            Evidence(
                f"auto:chat:{m.message_id}",
                m.sender,
                "file" if m.attachment else "statement",
                m.at,
                "system",
                m.text,
                m.attachment,
                auto=True,
                source="chat",
                primary=True,
            )
        )
    return tuple(out)


def open_dispute(
    *,
    case_id: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    claim: str,
    order_id: str,
    shop_id: str,
    order_amount_minor: int,
    kind: DisputeKind = DisputeKind.AFTER_SALES,
    first_request: AfterSalesCase | None = None,
    chat: Sequence[ChatMaterial] = (),
) -> Result[DisputeCase]:
    """The buyer escalates (DSP-1) or reports no after-sales service (DSP-3).

    ``actor`` is the buyer; or ``system`` when a missed after-sales deadline escalated the
    request (AS-D1): then the dispute is opened for the request's buyer.
    """
    if actor.role is Role.SYSTEM and first_request is not None:
        buyer_id = first_request.buyer_id or ""
    elif actor.role is Role.BUYER:
        buyer_id = actor.id
    else:
        raise InvalidInput("only the buyer (or the system, for an escalation) opens a dispute")
    if not claim.strip():
        raise InvalidInput("the dispute form needs the buyer's claim (DSP-4)")
    if first_request is not None:
        if first_request.buyer_id != buyer_id or first_request.order.order_id != order_id:
            raise InvalidInput("the after-sales request is not this buyer's request for this order")
        if kind is DisputeKind.AFTER_SALES and first_request.state != "escalated":
            raise InvalidInput(
                f"after-sales request {first_request.id} is {first_request.state!r}, not escalated"
            )
    case = DisputeCase(
        id=case_id,
        state="under_review" if kind is DisputeKind.NO_SERVICE else MACHINE.initial,
        opened_at=now,
        updated_at=now,
        buyer_id=buyer_id,
        shop_id=shop_id,
        kind=kind,
        order_id=order_id,
        order_amount_minor=order_amount_minor,
        claim=claim.strip(),
        after_sales_id=first_request.id if first_request else None,
        evidence=auto_evidence(now, first_request, chat),
    )
    rule = "DSP-3" if kind is DisputeKind.NO_SERVICE else "DSP-1"
    detail = {"kind": kind.value, "order": order_id, "auto_evidence": len(case.evidence)}
    return open_case(MACHINE, case, actor, ctx, rule, detail)


def apply(
    case: DisputeCase,
    action: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    params: Mapping[str, Any] | None = None,
) -> Result[DisputeCase]:
    return _apply(MACHINE, case, action, actor, now, ctx, params)


def fire(case: DisputeCase, deadline: str, now: datetime, ctx: Context) -> Result[DisputeCase]:
    return _fire(MACHINE, case, deadline, now, ctx)
