"""Force-majeure adjusted regions on the server (FM-1) and the fulfilment deadline they move.

Platform staff declare a region for a period, renew it or end it early; the pure engine
(`casework.force_majeure`) validates each step and this module stores it, writes the audit
log and tells the sellers of the shops inside on the WebSocket. A shop lies in a region when
the region lists its marketplace region code (`regions.code`) or that region's country
(`regions.country`). The fulfilment deadline of an order (`fulfilment`) and the judging of
force-majeure applications (`casework_repo.submit_force_majeure`) read the regions from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shopdesk.casework import force_majeure as fm
from shopdesk.casework.machine import Actor as CwActor
from shopdesk.casework.machine import InvalidInput, Role
from shopdesk.store import casework_repo as repo
from shopdesk.store.access import Actor, Forbidden, NotFound
from shopdesk.store.accounts import audit
from shopdesk.store.models import Membership, Order, Region, Shop
from shopdesk.store.models_casework import AdjustedRegion, Case

MAX_CODES = 50
CLOSED = {"cancelled", "canceled", "refunded", "closed"}  # nothing left to ship


def require_staff(actor: Actor, what: str) -> None:
    """Declaring, renewing and ending regions is the platform's decision (FM-1)."""
    if not actor.is_staff:
        raise Forbidden(f"only platform staff {what} (FM-1)", code="staff_only")
    actor.require_scope("platform")


def _staff(actor: Actor) -> CwActor:
    return CwActor(Role.PLATFORM_STAFF, str(actor.user_id))


def to_engine(row: AdjustedRegion) -> fm.AdjustedRegion:
    return fm.AdjustedRegion(
        id=str(row.id),
        name=row.name,
        region_codes=frozenset(str(c) for c in row.region_codes),
        start=row.starts_at,
        end=row.ends_at,
        extension_days=row.extension_days,
        declared_by=str(row.declared_by_id or ""),
        renewals=row.renewals,
    )


def _codes(session: Session, raw: Sequence[str]) -> list[str]:
    """Region codes as the marketplace knows them: its region codes or their countries."""
    codes = sorted({str(c).strip().upper() for c in raw if str(c).strip()})
    if not codes:
        raise InvalidInput("region_codes: give at least one marketplace region or country code")
    if len(codes) > MAX_CODES:
        raise InvalidInput(f"region_codes: at most {MAX_CODES} codes")
    known = set()
    for code, country in session.execute(select(Region.code, Region.country)):
        known |= {code.upper(), country.upper()}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(
            f"region_codes: unknown {', '.join(unknown)}; the marketplace has "
            f"{', '.join(sorted(known))}"
        )
    return codes


def _text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(f"{what} is required")
    if len(text) > limit:
        raise InvalidInput(f"{what}: at most {limit} characters")
    return text


def _get(session: Session, region_id: int, *, lock: bool = False) -> AdjustedRegion:
    query = select(AdjustedRegion).where(AdjustedRegion.id == region_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound("adjusted region")
    return row


def state_of(row: AdjustedRegion, now: datetime) -> str:
    if row.ends_at <= now:
        return "ended"
    return "active" if row.starts_at <= now else "scheduled"


def region_json(row: AdjustedRegion, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "region_codes": list(row.region_codes),
        "reason": row.reason,
        "starts_at": repo.iso(row.starts_at),
        "ends_at": repo.iso(row.ends_at),
        "extension_days": row.extension_days,
        "renewals": row.renewals,
        "state": state_of(row, now),
        "ended_early_at": repo.iso(row.ended_at),
        "declared_by": row.declared_by_id,
        "created_at": repo.iso(row.created_at),
        "history": row.history,
    }


def shops_in(session: Session, codes: Sequence[str]) -> list[int]:
    upper = [c.upper() for c in codes]
    return list(
        session.scalars(
            select(Shop.id)
            .join(Region, Region.id == Shop.region_id)
            .where(or_(Region.code.in_(upper), Region.country.in_(upper)))
        )
    )


def _notify(
    session: Session,
    row: AdjustedRegion,
    action: str,
    now: datetime,
    publisher: repo.Publisher | None,
) -> None:
    """Sellers of the shops inside learn that their fulfilment deadlines moved (or not)."""
    shops = shops_in(session, row.region_codes)
    if publisher is None or not shops:
        return
    users = sorted(
        set(session.scalars(select(Membership.user_id).where(Membership.shop_id.in_(shops))))
    )
    what = {"declare": "declared", "renew": "renewed", "end": "ended"}[action]
    text = (
        f"Force-majeure adjusted region “{row.name}” {what}: orders placed or due to ship "
        f"until {repo.iso(row.ends_at)} get {row.extension_days} more days to ship."
        if action != "end"
        else f"Force-majeure adjusted region “{row.name}” ended at {repo.iso(row.ends_at)}."
    )
    frame = {
        "type": "adjusted_region",
        "region": row.id,
        "action": action,
        "text": text,
        "ends_at": repo.iso(row.ends_at),
    }
    repo.queue_frame(session, users, frame, publisher)


def declare(
    session: Session,
    actor: Actor,
    *,
    name: str,
    region_codes: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    now: datetime,
    extension_days: int | None = None,
    publisher: repo.Publisher | None = None,
) -> AdjustedRegion:
    require_staff(actor, "declare adjusted regions")
    name = _text(name, "name", 120)
    reason = _text(reason, "reason", 2000)
    codes = _codes(session, region_codes)
    region = fm.declare_region(
        region_id="new",
        name=name,
        region_codes=codes,
        start=starts_at,
        end=ends_at,
        actor=_staff(actor),
        ctx=repo.context_for(session, None),
        extension_days=extension_days,
    )
    if region.end <= now:
        raise InvalidInput("ends_at: the period is already over; an adjusted region must end later")
    row = AdjustedRegion(
        name=name,
        region_codes=codes,
        reason=reason,
        starts_at=region.start,
        ends_at=region.end,
        extension_days=region.extension_days,
        renewals=0,
        declared_by_id=actor.user_id,
        ended_at=None,
        ended_by_id=None,
        history=[_entry("declare", actor, now, region.end, reason)],
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "adjusted_region.declare",
        "adjusted_region",
        row.id,
        now=now,
        codes=codes,
        starts_at=repo.iso(row.starts_at),
        ends_at=repo.iso(row.ends_at),
        extension_days=row.extension_days,
        reason=reason,
    )
    _notify(session, row, "declare", now, publisher)
    return row


def _entry(
    action: str, actor: Actor, now: datetime, ends_at: datetime, reason: str
) -> dict[str, Any]:
    return {
        "action": action,
        "at": repo.iso(now),
        "by": actor.user_id,
        "ends_at": repo.iso(ends_at),
        "reason": reason,
    }


def renew(
    session: Session,
    actor: Actor,
    region_id: int,
    *,
    ends_at: datetime,
    reason: str,
    now: datetime,
    publisher: repo.Publisher | None = None,
) -> AdjustedRegion:
    """FM-1: the platform decides to renew: the period goes on until the new end."""
    require_staff(actor, "renew adjusted regions")
    row = _get(session, region_id, lock=True)
    reason = _text(reason, "reason", 2000)
    renewed = fm.renew_region(
        to_engine(row), ends_at, _staff(actor), now=now, ctx=repo.context_for(session, None)
    )
    row.ends_at, row.renewals, row.updated_at = renewed.end, renewed.renewals, now
    row.history = [*row.history, _entry("renew", actor, now, renewed.end, reason)]
    audit(
        session,
        actor,
        "adjusted_region.renew",
        "adjusted_region",
        row.id,
        now=now,
        ends_at=repo.iso(renewed.end),
        renewals=renewed.renewals,
        reason=reason,
    )
    _notify(session, row, "renew", now, publisher)
    return row


def end(
    session: Session,
    actor: Actor,
    region_id: int,
    *,
    reason: str,
    now: datetime,
    publisher: repo.Publisher | None = None,
) -> AdjustedRegion:
    """The event is over before the period: the region ends now (orders placed or due from
    now on get no extension; earlier ones keep theirs)."""
    require_staff(actor, "end adjusted regions")
    row = _get(session, region_id, lock=True)
    reason = _text(reason, "reason", 2000)
    ended = fm.end_region(to_engine(row), now, _staff(actor))
    row.ends_at, row.ended_at, row.ended_by_id, row.updated_at = ended.end, now, actor.user_id, now
    row.history = [*row.history, _entry("end", actor, now, ended.end, reason)]
    audit(
        session,
        actor,
        "adjusted_region.end",
        "adjusted_region",
        row.id,
        now=now,
        ends_at=repo.iso(ended.end),
        reason=reason,
    )
    _notify(session, row, "end", now, publisher)
    return row


def list_regions(
    session: Session, now: datetime, *, state: str = "all", code: str | None = None
) -> list[AdjustedRegion]:
    """Every region, newest first; `state` active | scheduled | ended | all."""
    query = select(AdjustedRegion).order_by(AdjustedRegion.id.desc())
    if state == "active":
        query = query.where(AdjustedRegion.starts_at <= now, AdjustedRegion.ends_at > now)
    elif state == "scheduled":
        query = query.where(AdjustedRegion.starts_at > now)
    elif state == "ended":
        query = query.where(AdjustedRegion.ends_at <= now)
    rows = list(session.scalars(query))
    if code:
        rows = [r for r in rows if code.upper() in r.region_codes]
    return rows


def get_region(session: Session, region_id: int) -> AdjustedRegion:
    return _get(session, region_id)


# ---------------------------------------------------------------- shops and orders


def shop_codes(session: Session, shop_id: int | None) -> tuple[str | None, str | None]:
    """(marketplace region code, country) of a shop."""
    shop = session.get(Shop, shop_id) if shop_id is not None else None
    region = session.get(Region, shop.region_id) if shop is not None else None
    if region is None:
        return None, None
    return region.code.upper(), region.country.upper()


def regions_for(session: Session, shop_id: int | None) -> list[fm.AdjustedRegion]:
    """The regions a shop lies in (any period: the engine decides which instants count)."""
    code, country = shop_codes(session, shop_id)
    if code is None:
        return []
    found = [r for r in session.scalars(select(AdjustedRegion))]
    return [to_engine(r) for r in found if code in r.region_codes or country in r.region_codes]


def visible_order(session: Session, actor: Actor, order_id: int) -> Order:
    """The order's buyer, its shop's team and platform staff see it; others get 404."""
    order = session.get(Order, order_id)
    if order is None or not (
        actor.is_staff
        or (actor.is_buyer and order.buyer_id == actor.user_id)
        or (not actor.is_buyer and actor.role_in(order.shop_id) is not None)
    ):
        raise NotFound("order")
    return order


def fulfilment(session: Session, actor: Actor, order_id: int, now: datetime) -> dict[str, Any]:
    """The order's ship-by deadline with any force-majeure extension (FM-1, FM-5, CW-13)."""
    order = visible_order(session, actor, order_id)
    ctx = repo.context_for(session, order.shop_id)
    own = (order.terms_snapshot or {}).get("ship_within_business_days")
    handling = own if isinstance(own, int) and not isinstance(own, bool) and own > 0 else None
    base = fm.base_ship_by(order.placed_at, ctx, handling)
    code, country = shop_codes(session, order.shop_id)
    applications = [
        repo.decode(r)
        for r in session.scalars(
            select(Case).where(Case.process == "force_majeure", Case.shop_id == order.shop_id)
        )
    ]
    sla = fm.effective_sla(
        fm.OrderSla(str(order.id), str(order.shop_id), order.placed_at, base, code, country),
        ctx,
        regions=regions_for(session, order.shop_id),
        applications=applications,
    )
    extended_by: dict[str, Any] | None = None
    if sla.source is not None:
        kind, _, ident = sla.source.partition(":")
        extended_by = {"kind": kind, "id": int(ident)}
        if kind == "region":
            region = session.get(AdjustedRegion, int(ident))
            extended_by["name"] = region.name if region is not None else None
    shipped = order.shipped_at
    return {
        "order": order.id,
        "shop": order.shop_id,
        "status": order.status,
        "placed_at": repo.iso(order.placed_at),
        "shipped_at": repo.iso(shipped),
        "delivered_at": repo.iso(order.delivered_at),
        "base_ship_by": repo.iso(sla.base_ship_by),
        "ship_by": repo.iso(sla.ship_by),
        "extension_days": sla.extension_days,
        "extended_by": extended_by,
        "shipped_late": None if shipped is None else shipped > sla.ship_by,
        "overdue": shipped is None and order.status not in CLOSED and now > sla.ship_by,
    }
