"""A small marketplace for API tests: two shops with teams, buyers, staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shopdesk.store.accounts import create_user
from shopdesk.store.models import Membership, Order, Product, Region, Shop


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 2, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class World:
    shops: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)


PASSWORD = "pw-test"


def build_world(factory: sessionmaker[Session], now: datetime) -> World:
    w = World()
    with factory() as db, db.begin():
        region = Region(code="US", name="United States", country="US", policy="us")
        db.add(region)
        db.flush()
        for key, tz in (("a", "America/Los_Angeles"), ("b", "Europe/London")):
            shop = Shop(region_id=region.id, name=f"Shop {key.upper()}", timezone=tz,
                        listing_language="en", created_at=now)
            db.add(shop)
            db.flush()
            w.shops[key] = shop.id
            for role in ("owner", "admin", "agent", "agent2"):
                name = f"{role}_{key}"
                u = create_user(db, username=name, password=PASSWORD, kind="seller", now=now)
                db.add(Membership(user_id=u.id, shop_id=shop.id,
                                  role="agent" if role == "agent2" else role))
                w.users[name] = u.id
            p = Product(shop_id=shop.id, title=f"Mug {key}", language="en", price_cents=1200,
                        currency="USD", terms={"return_days": 30})
            db.add(p)
            db.flush()
            w.products[key] = p.id
        for name in ("buyer1", "buyer2"):
            w.users[name] = create_user(db, username=name, password=PASSWORD, kind="buyer",
                                        now=now).id
        w.users["staff"] = create_user(db, username="staff", password=PASSWORD, kind="staff",
                                       now=now).id
        o = Order(shop_id=w.shops["a"], buyer_id=w.users["buyer1"], product_id=w.products["a"],
                  quantity=1, total_cents=1200, status="shipped", placed_at=now,
                  terms_snapshot={"return_days": 30})
        db.add(o)
        db.flush()
        w.orders["a1"] = o.id
    return w


def auth(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}
