"""Shared helpers of the casework tests: a US shop in New York, default policy, actors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from shopdesk.casework.aftersales import AfterSalesKind, OrderSnapshot, Terms, open_request
from shopdesk.casework.business_days import BusinessCalendar
from shopdesk.casework.machine import Actor, Context, Role
from shopdesk.casework.policy import CaseworkPolicy, load_policy

BUYER = Actor(Role.BUYER, "b1")
OTHER_BUYER = Actor(Role.BUYER, "b2")
OWNER = Actor(Role.SELLER_OWNER, "o1", shop_id="s1")
AGENT = Actor(Role.SELLER_AGENT, "a1", shop_id="s1")
OTHER_SHOP = Actor(Role.SELLER_AGENT, "a9", shop_id="s9")
STAFF = Actor(Role.PLATFORM_STAFF, "staff1")

TERMS = Terms(
    cancellation_before_shipment=True,
    return_window_days=30,
    refund_window_days=30,
    exchange_window_days=30,
    repair_window_days=90,
    seller_pays_return_shipping_for_defects=True,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_ctx(policy: CaseworkPolicy | None = None, timezone: str = "America/New_York") -> Context:
    return Context(policy or load_policy(), BusinessCalendar.for_shop(timezone, "US"))


def with_policy(ctx: Context, section: str, **changes: object) -> Context:
    sect = getattr(ctx.policy, section)
    return Context(replace(ctx.policy, **{section: replace(sect, **changes)}), ctx.calendar)


def order(**changes: object) -> OrderSnapshot:
    base = OrderSnapshot(
        order_id="o-1",
        shop_id="s1",
        buyer_id="b1",
        placed_at=utc(2026, 3, 1, 12),
        amount_minor=5000,
        currency="USD",
        terms=TERMS,
        shipped_at=utc(2026, 3, 2, 12),
        delivered_at=utc(2026, 3, 4, 15),
    )
    return replace(base, **changes)


# Wednesday 2026-03-11 10:00 New York (EDT, UTC-4)
OPENED = utc(2026, 3, 11, 14)


def open_as(ctx: Context, kind: AfterSalesKind = AfterSalesKind.REFUND_ONLY, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "case_id": "as-1",
        "order": order(),
        "kind": kind,
        "reason": "not as described",
        "actor": BUYER,
        "now": OPENED,
        "ctx": ctx,
    }
    args.update(kw)
    return open_request(**args)  # type: ignore[arg-type]
