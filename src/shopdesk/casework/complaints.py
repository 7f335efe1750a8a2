"""Complaints (rules CMP-1 … CMP-8): receive, triage, acknowledge, assign, investigate,
update, resolve, confirm or reopen, close with a summary, follow up.

The complainant is a buyer or a seller (``complainant`` actor); staff may record a phone or
e-mail complaint on the complainant's behalf (``recorded_by``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

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
    require_text,
)
from shopdesk.casework.machine import apply as _apply
from shopdesk.casework.machine import fire as _fire
from shopdesk.casework.records import Evidence, Note, evidence_from_params
from shopdesk.casework.urgency import UrgencyProposal, propose_urgency


class Channel(StrEnum):
    """Rule CMP-1."""

    IN_APP = "in_app"
    EMAIL = "email"
    PHONE = "phone"
    HELP_CENTRE = "help_centre"
    SOCIAL_MEDIA = "social_media"
    OTHER = "other"


class Category(StrEnum):
    PRODUCT_QUALITY = "product_quality"
    LOGISTICS = "logistics"
    AFTER_SALES = "after_sales"
    SELLER_CONDUCT = "seller_conduct"
    FRAUD = "fraud"
    PLATFORM_SERVICE = "platform_service"
    PRIVACY = "privacy"
    OTHER = "other"


class Nature(StrEnum):
    """Rule CMP-5: simple cases are resolved at once, complex ones need a written plan."""

    SIMPLE = "simple"
    COMPLEX = "complex"


class Urgency(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Summary:
    """Rule CMP-8: each case summarised."""

    cause: str
    handling: str
    outcome: str


@dataclass(frozen=True, kw_only=True)
class ComplaintCase(CaseBase):
    channel: Channel
    complainant_role: Role
    complainant_id: str
    subject: str
    text: str
    proposed_urgency: UrgencyProposal
    urgency: Urgency
    about_shop_id: str | None = None
    about_order_id: str | None = None
    recorded_by: str | None = None
    category: Category | None = None
    nature: Nature | None = None
    team: str | None = None
    assignee: str | None = None
    notes: tuple[Note, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    updates: tuple[Note, ...] = ()
    resolution: str | None = None
    plan: str | None = None
    reopen_count: int = 0
    satisfaction: int | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    summary: Summary | None = None
    follow_up: str | None = None
    ack_overdue: bool = False
    resolution_overdue: bool = False
    follow_up_overdue: bool = False


def _ack_due(c: ComplaintCase, ctx: Context, now: datetime) -> datetime:
    """From receipt, by the current urgency (re-armed when triage changes the urgency)."""
    return add_hours(c.opened_at, ctx.policy.complaints.acknowledge_hours.get(c.urgency.value))


def _resolve_due(c: ComplaintCase, ctx: Context, now: datetime) -> datetime:
    days = ctx.policy.complaints.resolve_business_days.get(c.urgency.value)
    return ctx.calendar.add_business_days(now, days)


def _confirm_due(c: ComplaintCase, ctx: Context, now: datetime) -> datetime:
    return ctx.calendar.add_calendar_days(now, ctx.policy.complaints.confirmation_days)


def _follow_up_due(c: ComplaintCase, ctx: Context, now: datetime) -> datetime:
    return ctx.calendar.add_calendar_days(now, ctx.policy.complaints.follow_up_days)


P = Mapping[str, Any]
Fx = tuple[ComplaintCase, dict[str, Any]]


def _g_triage(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    problems = []
    for key, enum in (("category", Category), ("nature", Nature), ("urgency", Urgency)):
        if key in p and p[key] not in {e.value for e in enum}:
            problems.append(f"{key} must be one of {[e.value for e in enum]}")
    if not any(k in p for k in ("category", "nature", "urgency")):
        problems.append("give at least one of category, nature, urgency")
    return "; ".join(problems) or None


def _e_triage(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    new = replace(
        c,
        category=Category(p["category"]) if "category" in p else c.category,
        nature=Nature(p["nature"]) if "nature" in p else c.nature,
        urgency=Urgency(p["urgency"]) if "urgency" in p else c.urgency,
    )
    detail = {k: p[k] for k in ("category", "nature", "urgency") if k in p}
    if new.urgency != c.urgency:
        detail["proposed_urgency"] = c.proposed_urgency.level
    return new, detail


def _e_ack(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    text = str(p.get("text") or "We have received your complaint and are handling it.")
    note = Note(now, a.id, text, "complainant")
    return replace(c, acknowledged_at=now, updates=(*c.updates, note)), {"message": text}


def _g_assign(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    if c.category is None or c.nature is None:
        return "triage first: category and nature are needed to assign (CMP-4)"
    return require_text(p, "team")


def _e_assign(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    assignee = p.get("assignee")
    return replace(c, team=p["team"], assignee=assignee), {"team": p["team"], "assignee": assignee}


def _e_note(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    audience = str(p.get("party") or "internal")
    if audience not in {"internal", "merchant", "complainant", "third_party"}:
        raise InvalidInput("party must be internal, merchant, complainant or third_party")
    note = Note(now, a.id, p["text"].strip(), audience)
    return replace(c, notes=(*c.notes, note)), {"party": audience}


def _e_evidence(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    party = str(p.get("party") or "platform")
    ev = evidence_from_params(p, party, a.id, now, c.evidence)
    return replace(c, evidence=(*c.evidence, ev)), {"evidence_id": ev.id, "party": party}


def _e_update(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    note = Note(now, a.id, p["text"].strip(), "complainant")
    return replace(c, updates=(*c.updates, note)), {"message": note.text}


def _g_resolution(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    missing = require_text(p, "resolution")
    if missing:
        return missing
    if c.nature is Nature.COMPLEX and not str(p.get("plan") or "").strip():
        return "a complex complaint needs a written plan (CMP-5)"
    return None


def _e_resolution(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    plan = str(p.get("plan") or "").strip() or None
    text = p["resolution"].strip()
    note = Note(now, a.id, text, "complainant")
    new = replace(c, resolution=text, plan=plan, updates=(*c.updates, note))
    return new, {"resolution": text, "plan": plan}


def _g_complainant(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    same = a.shop_id == c.shop_id if a.role in SELLER else a.id == c.complainant_id
    return None if same else "only the complainant may do this"


def _g_confirm(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    s = p.get("satisfaction")
    if s is not None and (not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= 5):
        return "satisfaction must be 1 … 5"
    return _g_complainant(c, a, p, ctx, now)


def _e_confirm(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    s = p.get("satisfaction")
    return replace(c, resolved_at=now, satisfaction=s), {"satisfaction": s}


def _g_reopen(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    return _g_complainant(c, a, p, ctx, now) or require_text(p, "reason")


def _e_reopen(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    return replace(c, reopen_count=c.reopen_count + 1, resolution=None), {"reason": p["reason"]}


def _e_lapse(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    return replace(c, resolved_at=now), {"confirmed_by": "silence"}


def _g_summary(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    missing = [k for k in ("cause", "handling", "outcome") if not str(p.get(k) or "").strip()]
    return f"the closing summary needs {', '.join(missing)} (CMP-8)" if missing else None


def _e_close(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    s = Summary(p["cause"].strip(), p["handling"].strip(), p["outcome"].strip())
    return replace(c, summary=s, closed_at=now), {
        "cause": s.cause,
        "handling": s.handling,
        "outcome": s.outcome,
    }


def _e_follow(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    return replace(c, follow_up=p["text"].strip()), {"text": p["text"].strip()}


def _e_flag(flag: str) -> Any:
    def effect(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
        changes: dict[str, Any] = {flag: True}
        return replace(c, **changes), {"notify": "complaint_team_leads"}

    return effect


def _e_withdraw(c: ComplaintCase, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    return replace(c, closed_at=now), {"reason": p.get("reason")}


COMPLAINANT = BUYER | SELLER
OPEN_STATES = ("received", "acknowledged", "investigating", "awaiting_confirmation")
TEXT = lambda c, a, p, x, n: require_text(p, "text")  # noqa: E731

MACHINE: Machine[ComplaintCase] = Machine(
    name="complaints",
    title="Complaint",
    initial="received",
    states=(
        State(
            "received",
            "recorded with its channel; awaiting acknowledgement",
            (
                Timer(
                    "acknowledge", "acknowledge_overdue", "CMP-3", "2/8/24 h by urgency", _ack_due
                ),
            ),
        ),
        State("acknowledged", "complainant told it is being handled; triage and assignment"),
        State(
            "investigating",
            "the team investigates with merchant, user, third parties",
            (
                Timer(
                    "resolution",
                    "resolution_overdue",
                    "CW-10",
                    "2/5/10 business days by urgency",
                    _resolve_due,
                ),
            ),
        ),
        State(
            "awaiting_confirmation",
            "resolution proposed; the complainant confirms or reopens",
            (
                Timer(
                    "confirmation",
                    "confirmation_lapsed",
                    "CW-11",
                    "7 days (policy)",
                    _confirm_due,
                ),
            ),
        ),
        State("resolved", "confirmed; staff write the closing summary"),
        State(
            "closed",
            "summarised; follow-up due",
            (Timer("follow_up", "follow_up_overdue", "CMP-8", "7 days (policy)", _follow_up_due),),
        ),
        State("followed_up", "follow-up done", terminal=True),
        State("withdrawn", "withdrawn by the complainant", terminal=True),
    ),
    transitions=(
        Transition(
            "triage",
            ("received", "acknowledged", "investigating"),
            None,
            STAFF,
            "CMP-2",
            "staff set category, nature, urgency",
            guard=_g_triage,
            guard_text="valid category/nature/urgency; re-arms acknowledge/resolution",
            effect=_e_triage,
            params=("category?", "nature?", "urgency?"),
            rearm=("acknowledge", "resolution"),
        ),
        Transition(
            "acknowledge",
            ("received",),
            "acknowledged",
            STAFF | SYSTEM,
            "CMP-3",
            "tell the complainant it is being handled",
            effect=_e_ack,
            params=("text?",),
        ),
        Transition(
            "acknowledge_overdue",
            ("received",),
            None,
            SYSTEM,
            "CMP-3",
            "acknowledgement deadline missed: flag",
            effect=_e_flag("ack_overdue"),
        ),
        Transition(
            "assign",
            ("acknowledged",),
            "investigating",
            STAFF,
            "CMP-4",
            "assign to the right team",
            guard=_g_assign,
            guard_text="triaged; a team",
            effect=_e_assign,
            params=("team", "assignee?"),
        ),
        Transition(
            "reassign",
            ("investigating",),
            None,
            STAFF,
            "CMP-4",
            "move to another team",
            guard=_g_assign,
            guard_text="a team",
            effect=_e_assign,
            params=("team", "assignee?"),
        ),
        Transition(
            "add_note",
            ("investigating",),
            None,
            STAFF,
            "CMP-5",
            "investigation note (merchant, user, third party)",
            guard=TEXT,
            guard_text="a text",
            effect=_e_note,
            params=("text", "party?"),
        ),
        Transition(
            "add_evidence",
            ("investigating",),
            None,
            STAFF,
            "CMP-5",
            "evidence collected (immutable)",
            guard_text="a new evidence id with a text or a file",
            effect=_e_evidence,
            params=("evidence_id", "text?", "attachment?", "party?"),
        ),
        Transition(
            "progress_update",
            ("acknowledged", "investigating"),
            None,
            STAFF,
            "CMP-6",
            "progress update to the complainant",
            guard=TEXT,
            guard_text="a text",
            effect=_e_update,
            params=("text",),
        ),
        Transition(
            "resolution_overdue",
            ("investigating",),
            None,
            SYSTEM,
            "CW-10",
            "resolution deadline missed: flag",
            effect=_e_flag("resolution_overdue"),
        ),
        Transition(
            "propose_resolution",
            ("investigating",),
            "awaiting_confirmation",
            STAFF,
            "CMP-5",
            "propose a resolution (complex: with a plan)",
            guard=_g_resolution,
            guard_text="a resolution; a plan if complex",
            effect=_e_resolution,
            params=("resolution", "plan?"),
        ),
        Transition(
            "confirm",
            ("awaiting_confirmation",),
            "resolved",
            COMPLAINANT,
            "CMP-7",
            "complainant satisfied",
            guard=_g_confirm,
            guard_text="the complainant; satisfaction 1-5 optional",
            effect=_e_confirm,
            params=("satisfaction?",),
        ),
        Transition(
            "reopen",
            ("awaiting_confirmation",),
            "investigating",
            COMPLAINANT,
            "CMP-7",
            "complainant not satisfied: back to handling",
            guard=_g_reopen,
            guard_text="the complainant, with a reason",
            effect=_e_reopen,
            params=("reason",),
        ),
        Transition(
            "confirmation_lapsed",
            ("awaiting_confirmation",),
            "resolved",
            SYSTEM,
            "CW-11",
            "no answer: taken as confirmed",
            effect=_e_lapse,
        ),
        Transition(
            "close",
            ("resolved",),
            "closed",
            STAFF,
            "CMP-8",
            "close with a summary (cause, handling, outcome)",
            guard=_g_summary,
            guard_text="cause, handling, outcome",
            effect=_e_close,
            params=("cause", "handling", "outcome"),
        ),
        Transition(
            "record_follow_up",
            ("closed",),
            "followed_up",
            STAFF,
            "CMP-8",
            "follow-up after closing",
            guard=TEXT,
            guard_text="a text",
            effect=_e_follow,
            params=("text",),
        ),
        Transition(
            "follow_up_overdue",
            ("closed",),
            None,
            SYSTEM,
            "CMP-8",
            "follow-up not done in time: flag",
            effect=_e_flag("follow_up_overdue"),
        ),
        Transition(
            "withdraw",
            OPEN_STATES,
            "withdrawn",
            COMPLAINANT,
            "CMP-7",
            "complainant withdraws",
            guard=_g_complainant,
            guard_text="the complainant",
            effect=_e_withdraw,
            params=("reason?",),
        ),
    ),
)


def open_complaint(
    *,
    case_id: str,
    complainant: Actor,
    channel: Channel,
    subject: str,
    text: str,
    now: datetime,
    ctx: Context,
    about_shop_id: str | None = None,
    about_order_id: str | None = None,
    recorded_by: Actor | None = None,
) -> Result[ComplaintCase]:
    """Record a complaint with its channel (CMP-1) and a proposed urgency (CMP-2)."""
    if complainant.role not in COMPLAINANT:
        raise InvalidInput("the complainant is a buyer or a seller")
    if recorded_by is not None and recorded_by.role is not Role.PLATFORM_STAFF:
        raise InvalidInput("only platform staff record a complaint on someone's behalf")
    if not text.strip():
        raise InvalidInput("the complaint text is empty")
    proposal = propose_urgency(f"{subject}\n{text}")
    case = ComplaintCase(
        id=case_id,
        state=MACHINE.initial,
        opened_at=now,
        updated_at=now,
        buyer_id=complainant.id if complainant.role is Role.BUYER else None,
        shop_id=complainant.shop_id if complainant.role in SELLER else None,
        channel=channel,
        complainant_role=complainant.role,
        complainant_id=complainant.id,
        subject=subject.strip(),
        text=text.strip(),
        proposed_urgency=proposal,
        urgency=Urgency(proposal.level),
        about_shop_id=about_shop_id,
        about_order_id=about_order_id,
        recorded_by=recorded_by.id if recorded_by else None,
    )
    detail = {"channel": channel.value, "proposed_urgency": proposal.explain()}
    return open_case(MACHINE, case, recorded_by or complainant, ctx, "CMP-1", detail)


def apply(
    case: ComplaintCase,
    action: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    params: Mapping[str, Any] | None = None,
) -> Result[ComplaintCase]:
    return _apply(MACHINE, case, action, actor, now, ctx, params)


def fire(case: ComplaintCase, deadline: str, now: datetime, ctx: Context) -> Result[ComplaintCase]:
    return _fire(MACHINE, case, deadline, now, ctx)
