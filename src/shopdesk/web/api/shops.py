"""Shops: listing, business hours (CHAT-4), vacation mode (CHAT-6), chatbot switch, team."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from shopdesk.chat.assignment import assign_waiting, online_agents
from shopdesk.chat.hours import Hours, Window, validate_windows
from shopdesk.store.access import MANAGER_ROLES, Actor, get_shop, shop_filter
from shopdesk.store.accounts import audit
from shopdesk.store.models import (
    BusinessHours,
    ChatbotSwitch,
    ClosedDate,
    Membership,
    Product,
    Shop,
    User,
    VacationPeriod,
)
from shopdesk.store.types import iso
from shopdesk.web.deps import DB, AppSettings, Clock, CurrentActor
from shopdesk.web.errors import ApiError

router = APIRouter(tags=["shops"])


def shop_hours(db: Any, shop: Shop) -> Hours:
    windows = tuple(
        Window(h.weekday, h.opens, h.closes)
        for h in db.scalars(select(BusinessHours).where(BusinessHours.shop_id == shop.id))
    )
    closed = frozenset(
        c.day for c in db.scalars(select(ClosedDate).where(ClosedDate.shop_id == shop.id))
    )
    return Hours(shop.timezone, windows, closed)


def shop_json(db: Any, shop: Shop, now: datetime) -> dict[str, Any]:
    hours = shop_hours(db, shop)
    return {
        "id": shop.id,
        "name": shop.name,
        "timezone": shop.timezone,
        "region": shop.region.code,
        "listing_language": shop.listing_language,
        "greeting": shop.greeting,
        "vacation_mode": shop.vacation_mode,
        "chatbot_enabled": shop.chatbot_enabled,
        "open_now": hours.is_open(now),
        "next_opening": iso(hours.next_opening(now)) if not hours.is_open(now) else None,
        "agents_online": online_agents(db, shop.id),
    }


@router.get("/shops")
def list_shops(actor: CurrentActor, db: DB, clock: Clock) -> list[dict[str, Any]]:
    shops = db.scalars(select(Shop).where(shop_filter(actor)).order_by(Shop.id))
    now = clock()
    return [shop_json(db, s, now) for s in shops]


@router.get("/shops/{shop_id}")
def get_one(shop_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    return shop_json(db, get_shop(db, actor, shop_id), clock())


class WindowIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    opens: time
    closes: time


class HoursIn(BaseModel):
    windows: list[WindowIn] = Field(max_length=50)
    closed_dates: list[date] = Field(default_factory=list, max_length=400)


@router.get("/shops/{shop_id}/hours")
def get_hours(shop_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    shop = get_shop(db, actor, shop_id)
    hours = shop_hours(db, shop)
    now = clock()
    return {
        "timezone": shop.timezone,
        "windows": [
            {"weekday": w.weekday, "opens": w.opens.isoformat(), "closes": w.closes.isoformat()}
            for w in sorted(hours.windows, key=lambda w: (w.weekday, w.opens))
        ],
        "closed_dates": sorted(d.isoformat() for d in hours.closed_dates),
        "open_now": hours.is_open(now),
        "next_opening": iso(hours.next_opening(now)),
    }


def _manager(actor: Actor, shop_id: int) -> None:
    actor.require_scope("shop:manage") if not actor.is_staff else None
    actor.require_shop_role(shop_id, MANAGER_ROLES)


@router.put("/shops/{shop_id}/hours")
def put_hours(
    shop_id: int, body: HoursIn, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    shop = get_shop(db, actor, shop_id)
    _manager(actor, shop_id)
    windows = [Window(w.weekday, w.opens, w.closes) for w in body.windows]
    try:
        validate_windows(windows)
    except ValueError as exc:
        raise ApiError(422, "invalid_hours", str(exc)) from exc
    db.execute(delete(BusinessHours).where(BusinessHours.shop_id == shop.id))
    db.execute(delete(ClosedDate).where(ClosedDate.shop_id == shop.id))
    for w in windows:
        db.add(BusinessHours(shop_id=shop.id, weekday=w.weekday, opens=w.opens, closes=w.closes))
    for d in set(body.closed_dates):
        db.add(ClosedDate(shop_id=shop.id, day=d))
    audit(db, actor, "shop.hours", "shop", shop.id, now=clock(), shop_id=shop.id,
          windows=len(windows), closed_dates=len(body.closed_dates))
    db.flush()
    return get_hours(shop_id, actor, db, clock)


class Switch(BaseModel):
    enabled: bool


@router.put("/shops/{shop_id}/vacation")
def put_vacation(
    shop_id: int, body: Switch, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """Vacation mode on/off (CHAT-6, FM-2); each switch is recorded with its time."""
    shop = get_shop(db, actor, shop_id)
    _manager(actor, shop_id)
    now = clock()
    if body.enabled == shop.vacation_mode:
        state = "on" if body.enabled else "off"
        raise ApiError(409, "no_change", f"vacation mode is already {state}")
    if body.enabled:
        db.add(VacationPeriod(shop_id=shop.id, start=now, end=None))
    else:
        period = db.scalars(
            select(VacationPeriod).where(
                VacationPeriod.shop_id == shop.id, VacationPeriod.end.is_(None)
            )
        ).first()
        if period is not None:
            period.end = now
    shop.vacation_mode = body.enabled
    audit(db, actor, "shop.vacation", "shop", shop.id, now=now, shop_id=shop.id,
          enabled=body.enabled)
    return {"vacation_mode": shop.vacation_mode, "at": iso(now)}


@router.get("/shops/{shop_id}/vacation")
def vacation_history(shop_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id)
    periods = db.scalars(
        select(VacationPeriod)
        .where(VacationPeriod.shop_id == shop_id)
        .order_by(VacationPeriod.start)
    )
    return [{"start": iso(p.start), "end": iso(p.end)} for p in periods]


@router.put("/shops/{shop_id}/chatbot")
def put_chatbot(
    shop_id: int, body: Switch, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    shop = get_shop(db, actor, shop_id)
    _manager(actor, shop_id)
    now = clock()
    shop.chatbot_enabled = body.enabled
    db.add(ChatbotSwitch(shop_id=shop.id, at=now, enabled=body.enabled))
    audit(db, actor, "shop.chatbot", "shop", shop.id, now=now, shop_id=shop.id,
          enabled=body.enabled)
    return {"chatbot_enabled": body.enabled, "at": iso(now)}


@router.get("/shops/{shop_id}/team")
def team(shop_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id)
    rows = db.execute(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.shop_id == shop_id).order_by(User.username)
    )
    return [
        {"user": u.id, "username": u.username, "name": u.display_name, "role": m.role,
         "online": m.online, "capacity": m.capacity}
        for m, u in rows
    ]


class PresenceIn(BaseModel):
    online: bool
    capacity: int | None = Field(default=None, ge=1, le=100)


@router.put("/shops/{shop_id}/presence")
def presence(
    shop_id: int, body: PresenceIn, actor: CurrentActor, db: DB, clock: Clock,
    settings: AppSettings,
) -> dict[str, Any]:
    """An agent goes online/offline; going online pulls the oldest waiting conversations."""
    get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id)
    member = db.scalars(
        select(Membership).where(Membership.shop_id == shop_id,
                                 Membership.user_id == actor.user_id)
    ).first()
    if member is None:
        raise ApiError(403, "role_forbidden", "only the shop's own team sets presence")
    now = clock()
    member.online = body.online
    member.last_seen_at = now
    if body.capacity is not None:
        member.capacity = body.capacity
    db.flush()
    assigned = assign_waiting(db, shop_id, now, settings.agent_capacity) if body.online else 0
    return {"online": member.online, "capacity": member.capacity or settings.agent_capacity,
            "assigned": assigned}


@router.get("/shops/{shop_id}/products")
def products(shop_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    get_shop(db, actor, shop_id)
    rows = db.scalars(select(Product).where(Product.shop_id == shop_id).order_by(Product.id))
    return [
        {"id": p.id, "title": p.title, "language": p.language, "price_cents": p.price_cents,
         "currency": p.currency, "terms": p.terms}
        for p in rows
    ]
