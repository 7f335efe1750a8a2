"""Force majeure (rules FM-1 … FM-7): adjusted regions, seller applications, effective SLA.

* FM-1: the platform declares an adjusted region for a period; orders of shops in it get
  their fulfilment SLA extended automatically; the platform may renew the period.
* FM-3/FM-4: a shop outside such regions applies — only through a ticket — with a shipping
  address, a reason with official proof (screenshots of chats or news are refused), the
  affected orders' ship times and the expected recovery date.
* FM-5: reviewed within 48 hours; an approval takes effect the next day (shop local) for a
  bounded period (policy ``max_extension_days``). FM-6: when it ends, apply again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from shopdesk.casework.business_days import add_hours
from shopdesk.casework.machine import (
    SELLER_MANAGERS,
    STAFF,
    SYSTEM,
    Actor,
    CaseBase,
    CaseworkError,
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
from shopdesk.casework.policy import ForceMajeureSettings
from shopdesk.casework.records import Attachment
from shopdesk.casework.tickets import Ticket, TicketKind

# Declared kinds that are refused whatever the file (rule FM-4), with the reason shown.
REFUSED_KINDS: dict[str, str] = {
    "screenshot": "screenshots are not accepted as proof (FM-4)",
    "chat_screenshot": "screenshots of chats are not accepted as proof (FM-4)",
    "news": "news reports are not accepted as proof; send the official notice (FM-4)",
    "news_screenshot": "screenshots of news are not accepted as proof (FM-4)",
    "social_media_post": "social-media posts are not accepted as proof (FM-4)",
}
SCREENSHOT_HINTS = ("screenshot", "screen shot", "screen_shot", "截图", "截屏", "屏幕快照")


@dataclass(frozen=True)
class ProofDocument:
    attachment: Attachment
    declared_kind: str  # government_notice, work_stoppage_certificate, …
    issuer: str | None = None
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class ProofRefusal:
    file_name: str
    declared_kind: str
    reason: str


def check_proof(proof: ProofDocument, settings: ForceMajeureSettings) -> ProofRefusal | None:
    """Rule FM-4: None when the document is acceptable official proof, else why not."""
    att, kind = proof.attachment, proof.declared_kind

    def refuse(reason: str) -> ProofRefusal:
        return ProofRefusal(att.file_name, kind, reason)

    if kind in REFUSED_KINDS:
        return refuse(REFUSED_KINDS[kind])
    if kind not in settings.accepted_proof_kinds:
        accepted = ", ".join(sorted(settings.accepted_proof_kinds))
        return refuse(f"{kind!r} is not an official document kind (accepted: {accepted}) (FM-4)")
    if att.media_type not in settings.accepted_media_types:
        accepted = ", ".join(sorted(settings.accepted_media_types))
        return refuse(f"file type {att.media_type} is not accepted ({accepted})")
    lowered = att.file_name.lower()
    if any(h in lowered for h in SCREENSHOT_HINTS):
        return refuse("the file looks like a screenshot; send the official document (FM-4)")
    if proof.period_start and proof.period_end and proof.period_end < proof.period_start:
        return refuse("the document's affected period ends before it starts")
    return None


# ---------------------------------------------------------------- adjusted regions (FM-1)


@dataclass(frozen=True)
class AdjustedRegion:
    id: str
    name: str
    region_codes: frozenset[str]
    start: datetime
    end: datetime
    extension_days: int
    declared_by: str
    renewals: int = 0

    def active_at(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def covers(self, *shop_codes: str | None) -> bool:
        """Whether a shop known by these codes (its region, its country, …) lies inside."""
        return any(c is not None and c in self.region_codes for c in shop_codes)


class RegionEnded(CaseworkError):
    """A renewal or an early end of a region whose period is already over (FM-1)."""

    code = "region_ended"

    def __init__(self, message: str) -> None:
        # Skip the base class's "Nothing is allowed now": declaring a new region still is.
        Exception.__init__(self, message)
        self.allowed = ()


def _staff_only(actor: Actor, what: str) -> None:
    if actor.role is not Role.PLATFORM_STAFF:
        raise InvalidInput(f"only platform staff {what} (FM-1)")


def _aware(instant: datetime, what: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(f"{what}: give the time zone (e.g. Z)")


def _bounded_period(start: datetime, end: datetime, ctx: Context, what: str) -> None:
    """FM-1 declares a region "for a period": a finite one the platform decides again on
    (decision CW-22)."""
    limit = ctx.policy.force_majeure.max_region_period_days
    if end - start > timedelta(days=limit):
        raise InvalidInput(f"{what} is at most {limit} days; renew the region to go on (FM-1)")


def declare_region(
    *,
    region_id: str,
    name: str,
    region_codes: Sequence[str],
    start: datetime,
    end: datetime,
    actor: Actor,
    ctx: Context,
    extension_days: int | None = None,
) -> AdjustedRegion:
    """Rule FM-1: the platform declares an adjusted region for [start, end)."""
    _staff_only(actor, "declare adjusted regions")
    _aware(start, "start")
    _aware(end, "end")
    if end <= start:
        raise InvalidInput("the region's period must end after it starts")
    _bounded_period(start, end, ctx, "a region's period")
    if not region_codes:
        raise InvalidInput("an adjusted region needs at least one region code")
    fm = ctx.policy.force_majeure
    days = fm.region_extension_days if extension_days is None else extension_days
    if days < 1:
        raise InvalidInput("extension_days must be at least 1")
    if days > fm.max_extension_days:
        raise InvalidInput(f"an extension is at most {fm.max_extension_days} days (FM-5)")
    return AdjustedRegion(region_id, name, frozenset(region_codes), start, end, days, actor.id)


def renew_region(
    region: AdjustedRegion,
    new_end: datetime,
    actor: Actor,
    *,
    now: datetime | None = None,
    ctx: Context | None = None,
) -> AdjustedRegion:
    """Rule FM-1: the platform decides whether to renew (extend) the period.

    A region whose period is over at ``now`` is not renewed: the platform declares a new one,
    so the gap in between stays visible (orders due in it got no extension)."""
    _staff_only(actor, "renew adjusted regions")
    _aware(new_end, "end")
    if now is not None and region.end <= now:
        raise RegionEnded(
            f"adjusted region {region.id} ended at {region.end.isoformat()}; "
            "declare a new region instead of renewing it (FM-1)"
        )
    if new_end <= region.end:
        raise InvalidInput("a renewal must move the end later")
    if ctx is not None:
        _bounded_period(region.end, new_end, ctx, "a renewal")
    return replace(region, end=new_end, renewals=region.renewals + 1)


def end_region(region: AdjustedRegion, at: datetime, actor: Actor) -> AdjustedRegion:
    """The platform ends a region early (the event is over); a region not yet started is
    cancelled (its period becomes empty)."""
    _staff_only(actor, "end adjusted regions")
    if region.end <= at:
        raise RegionEnded(f"adjusted region {region.id} already ended at {region.end.isoformat()}")
    return replace(region, end=max(region.start, min(region.end, at)))


# ---------------------------------------------------------------- applications (FM-3 … FM-6)


@dataclass(frozen=True)
class AffectedOrder:
    order_id: str
    ship_by: datetime


@dataclass(frozen=True, kw_only=True)
class FMApplication(CaseBase):
    ticket_id: str
    shipping_address: str
    reason: str
    proofs: tuple[ProofDocument, ...]
    affected_orders: tuple[AffectedOrder, ...]
    expected_recovery: date
    requested_days: int
    approved_days: int | None = None
    effective_from: datetime | None = None
    effective_until: datetime | None = None
    decision_reason: str | None = None
    review_overdue: bool = False


def _review_due(c: FMApplication, ctx: Context, now: datetime) -> datetime:
    return add_hours(now, ctx.policy.force_majeure.review_hours)


def _end_due(c: FMApplication, ctx: Context, now: datetime) -> datetime:
    assert c.effective_until is not None
    return c.effective_until


P = Mapping[str, Any]
Fx = tuple[FMApplication, dict[str, Any]]


def _days(c: FMApplication, p: P, ctx: Context) -> int:
    raw = p.get("days")
    if raw is None:
        return min(c.requested_days, ctx.policy.force_majeure.max_extension_days)
    return int(raw)


def _g_approve(c: FMApplication, a: Actor, p: P, ctx: Context, now: datetime) -> str | None:
    raw = p.get("days")
    if raw is not None and (not isinstance(raw, int) or isinstance(raw, bool) or raw < 1):
        return "days must be a positive integer"
    limit = ctx.policy.force_majeure.max_extension_days
    if _days(c, p, ctx) > limit:
        return f"an extension is at most {limit} days (FM-5)"
    return None


def _e_approve(c: FMApplication, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    days = _days(c, p, ctx)
    start = ctx.calendar.start_of_next_day(now)
    until = ctx.calendar.add_calendar_days(start, days)
    new = replace(
        c,
        approved_days=days,
        effective_from=start,
        effective_until=until,
        decision_reason=str(p.get("reason") or "").strip() or None,
        review_overdue=False,
    )
    return new, {
        "days": days,
        "effective_from": start.isoformat(),
        "effective_until": until.isoformat(),
    }


def _e_reject(c: FMApplication, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    return replace(c, decision_reason=p["reason"].strip()), {"reason": p["reason"].strip()}


def _e_flag(c: FMApplication, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    return replace(c, review_overdue=True), {"notify": "seller_operations_leads"}


def _e_ended(c: FMApplication, a: Actor, p: P, ctx: Context, now: datetime) -> Fx:
    return c, {"next": "if the event goes on, the shop applies again (FM-6)"}


MACHINE: Machine[FMApplication] = Machine(
    name="force_majeure",
    title="Force-majeure application",
    initial="submitted",
    states=(
        State(
            "submitted",
            "submitted through a ticket; platform reviews",
            (Timer("review", "review_overdue", "FM-5", "48 hours (policy)", _review_due),),
        ),
        State(
            "approved",
            "extension in force from the next day, for a bounded period",
            (Timer("extension_end", "extension_ended", "FM-6", "end of the period", _end_due),),
        ),
        State("rejected", "refused with a reason", terminal=True),
        State("expired", "period over; apply again if needed (FM-6)", terminal=True),
        State("withdrawn", "withdrawn by the shop", terminal=True),
    ),
    transitions=(
        Transition(
            "approve",
            ("submitted",),
            "approved",
            STAFF,
            "FM-5",
            "approve; effective next day, bounded",
            guard=_g_approve,
            guard_text="days ≤ max_extension_days",
            effect=_e_approve,
            params=("days?", "reason?"),
        ),
        Transition(
            "reject",
            ("submitted",),
            "rejected",
            STAFF,
            "FM-5",
            "reject with a reason",
            guard=lambda c, a, p, x, n: require_text(p, "reason"),
            guard_text="a reason",
            effect=_e_reject,
            params=("reason",),
        ),
        Transition(
            "review_overdue",
            ("submitted",),
            None,
            SYSTEM,
            "FM-5",
            "48-hour review missed: flag",
            effect=_e_flag,
        ),
        Transition(
            "extension_ended",
            ("approved",),
            "expired",
            SYSTEM,
            "FM-6",
            "period over: the shop must re-apply",
            effect=_e_ended,
        ),
        Transition(
            "withdraw",
            ("submitted", "approved"),
            "withdrawn",
            SELLER_MANAGERS,
            "FM-3",
            "shop withdraws (recovered early)",
        ),
    ),
)


def submit_application(
    *,
    case_id: str,
    actor: Actor,
    ticket: Ticket,
    now: datetime,
    ctx: Context,
    shipping_address: str,
    reason: str,
    proofs: Sequence[ProofDocument],
    affected_orders: Sequence[AffectedOrder],
    expected_recovery: date,
    shop_region: str | None = None,
    regions: Sequence[AdjustedRegion] = (),
    previous: Sequence[FMApplication] = (),
    shop_country: str | None = None,
) -> Result[FMApplication]:
    """Rules FM-3/FM-4/FM-6: validate and submit; raises :class:`InvalidInput` with reasons."""
    if actor.role not in SELLER_MANAGERS:
        raise InvalidInput("the shop owner or an admin applies for force majeure")
    if ticket.kind is not TicketKind.FORCE_MAJEURE or ticket.shop_id != actor.shop_id:
        raise InvalidInput("applications go only through a force-majeure ticket of the shop (FM-4)")
    problems: list[str] = []
    if not shipping_address.strip():
        problems.append("the shipping address is required (FM-4)")
    if not reason.strip():
        problems.append("the reason is required (FM-4)")
    fm = ctx.policy.force_majeure
    refusals = [r for r in (check_proof(p, fm) for p in proofs) if r is not None]
    problems += [f"proof {r.file_name}: {r.reason}" for r in refusals]
    if len(refusals) == len(proofs):
        problems.append("at least one official proof document is required (FM-4)")
    if not affected_orders:
        problems.append("list the affected orders with their ship times (FM-4)")
    first_day = ctx.calendar.local_date(ctx.calendar.start_of_next_day(now))
    if expected_recovery < first_day:
        problems.append("the expected recovery date must be after today (FM-3)")
    covering = [r for r in regions if r.covers(shop_region, shop_country) and r.active_at(now)]
    if covering:
        problems.append(
            f"the shop's region is in adjusted region {covering[0].id}: its SLA is already "
            "extended (FM-1)"
        )
    for old in previous:
        if old.shop_id == actor.shop_id and (
            old.state == "submitted"
            or (old.state == "approved" and old.effective_until and old.effective_until > now)
        ):
            problems.append(
                f"application {old.id} is still {old.state}; apply again when it ends (FM-6)"
            )
    if problems:
        raise InvalidInput("; ".join(problems))
    requested = max(1, (expected_recovery - first_day).days)
    case = FMApplication(
        id=case_id,
        state=MACHINE.initial,
        opened_at=now,
        updated_at=now,
        shop_id=actor.shop_id,
        ticket_id=ticket.id,
        shipping_address=shipping_address.strip(),
        reason=reason.strip(),
        proofs=tuple(proofs),
        affected_orders=tuple(affected_orders),
        expected_recovery=expected_recovery,
        requested_days=requested,
    )
    detail = {"ticket": ticket.id, "requested_days": requested, "orders": len(affected_orders)}
    return open_case(MACHINE, case, actor, ctx, "FM-4", detail)


def apply(
    case: FMApplication,
    action: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    params: Mapping[str, Any] | None = None,
) -> Result[FMApplication]:
    return _apply(MACHINE, case, action, actor, now, ctx, params)


def fire(case: FMApplication, deadline: str, now: datetime, ctx: Context) -> Result[FMApplication]:
    return _fire(MACHINE, case, deadline, now, ctx)


# ---------------------------------------------------------------- effective SLA


@dataclass(frozen=True)
class OrderSla:
    order_id: str
    shop_id: str
    placed_at: datetime
    base_ship_by: datetime
    shop_region: str | None = None
    shop_country: str | None = None


@dataclass(frozen=True)
class EffectiveSla:
    order_id: str
    base_ship_by: datetime
    ship_by: datetime
    extension_days: int
    source: str | None  # "region:<id>" or "application:<id>"


def base_ship_by(placed_at: datetime, ctx: Context, business_days: int | None = None) -> datetime:
    """The fulfilment deadline before any extension: ``business_days`` (the order's own
    handling time, else policy ``ship_within_business_days``) after the order (CW-23)."""
    if business_days is None:
        business_days = ctx.policy.force_majeure.ship_within_business_days
    return ctx.calendar.add_business_days(placed_at, business_days)


def effective_sla(
    order: OrderSla,
    ctx: Context,
    regions: Sequence[AdjustedRegion] = (),
    applications: Sequence[FMApplication] = (),
) -> EffectiveSla:
    """The order's fulfilment deadline after force-majeure extensions (decision CW-13).

    A region (FM-1) covers an order of a shop in one of its region codes placed, or due to
    ship, within the region's period. An approved application (FM-5) covers the orders it
    lists and the shop's orders due to ship within its effective period (FM-3: the shop may
    keep taking orders). Extensions do not add up: the longest one applies, in calendar days
    at the same local wall-clock time.
    """
    candidates: list[tuple[int, str]] = []
    for r in regions:
        if not r.covers(order.shop_region, order.shop_country):
            continue
        if r.active_at(order.placed_at) or r.active_at(order.base_ship_by):
            candidates.append((r.extension_days, f"region:{r.id}"))
    for a in applications:
        if a.shop_id != order.shop_id or a.approved_days is None:
            continue
        if a.state not in ("approved", "expired") or a.effective_from is None:
            continue
        assert a.effective_until is not None
        listed = any(o.order_id == order.order_id for o in a.affected_orders)
        due_inside = a.effective_from <= order.base_ship_by < a.effective_until
        if listed or due_inside:
            candidates.append((a.approved_days, f"application:{a.id}"))
    if not candidates:
        return EffectiveSla(order.order_id, order.base_ship_by, order.base_ship_by, 0, None)
    days, source = max(candidates, key=lambda c: (c[0], c[1]))
    ship_by = ctx.calendar.add_calendar_days(order.base_ship_by, days)
    return EffectiveSla(order.order_id, order.base_ship_by, ship_by, days, source)
