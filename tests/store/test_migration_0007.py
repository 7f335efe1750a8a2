"""Migration 0007 gives existing orders the shipped/delivered instants the after-sales checks
used to infer, so upgrading changes no AS-6 answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, insert, select

from shopdesk.store.db import make_engine
from shopdesk.store.migrate import downgrade, upgrade
from tests.web.conftest import database_url, private_postgres  # noqa: F401  (fixtures)

PLACED = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_backfill_from_status_and_terms_snapshot(database_url: str) -> None:  # noqa: F811
    upgrade(database_url, "0006")
    engine = make_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        region = conn.execute(
            insert(t["regions"]).values(code="US", name="US", country="US", policy="us")
        ).inserted_primary_key[0]
        user = conn.execute(
            insert(t["users"]).values(
                username="b", display_name="B", password_hash="x", kind="buyer",
                is_active=True, is_demo=False, created_at=PLACED.replace(tzinfo=None),
            )
        ).inserted_primary_key[0]
        shop = conn.execute(
            insert(t["shops"]).values(
                region_id=region, name="S", timezone="UTC", listing_language="en", greeting="",
                chatbot_enabled=False, vacation_mode=False, is_demo=False,
                created_at=PLACED.replace(tzinfo=None),
            )
        ).inserted_primary_key[0]
        product = conn.execute(
            insert(t["products"]).values(
                shop_id=shop, title="Mug", language="en", price_cents=100, currency="USD",
                terms={},
            )
        ).inserted_primary_key[0]
        rows = {
            "paid": ("paid", {}),
            "shipped": ("shipped", {}),
            "delivered": ("delivered", {}),
            "snapshot": ("delivered", {"shipped_at": "2026-10-02T08:00:00Z",
                                       "delivered_at": "2026-10-05T09:30:00+00:00"}),
        }
        ids = {}
        for key, (status, snap) in rows.items():
            ids[key] = conn.execute(
                insert(t["orders"]).values(
                    shop_id=shop, buyer_id=user, product_id=product, quantity=1,
                    total_cents=100, status=status, placed_at=PLACED.replace(tzinfo=None),
                    terms_snapshot=snap,
                )
            ).inserted_primary_key[0]
    engine.dispose()

    upgrade(database_url)
    engine = make_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    orders = meta.tables["orders"]
    with engine.connect() as conn:
        got = {
            r.id: (r.shipped_at, r.delivered_at)
            for r in conn.execute(select(orders.c.id, orders.c.shipped_at, orders.c.delivered_at))
        }

    def utc(d: datetime | None) -> datetime | None:
        return None if d is None else d.replace(tzinfo=None) if d.tzinfo is None else \
            d.astimezone(UTC).replace(tzinfo=None)

    placed = PLACED.replace(tzinfo=None)
    assert {k: tuple(map(utc, got[v])) for k, v in ids.items()} == {
        "paid": (None, None),
        "shipped": (placed, None),
        "delivered": (placed, placed),
        "snapshot": (datetime(2026, 10, 2, 8, 0), datetime(2026, 10, 5, 9, 30)),
    }
    assert "adjusted_regions" in meta.tables
    engine.dispose()
    downgrade(database_url, "0006")
    engine = make_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    assert "shipped_at" not in meta.tables["orders"].c and "adjusted_regions" not in meta.tables
    engine.dispose()
