"""Orders the caller may see, with whether an after-sales request can be opened now (AS-6).

A buyer sees their own orders, a shop's team their shops' orders, platform staff every order.
Lists are paged (newest first, `before` = the last id of the previous page), so staff's view
of the whole marketplace stays bounded. Whether a request may be opened is the casework
engine's own check (`aftersales.check_request`: the order-time terms floored by the
platform's, counted in the shop's calendar), so this list and `POST /aftersales` never
disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from shopdesk.casework import aftersales
from shopdesk.casework.machine import Context
from shopdesk.store import casework_repo as repo
from shopdesk.store.access import case_filter, order_filter
from shopdesk.store.models import Order, Product
from shopdesk.store.models_casework import Case
from shopdesk.web.deps import DB, Clock, CurrentActor

router = APIRouter(tags=["orders"])


@router.get("/orders")
def list_orders(
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    shop: int | None = None,
    status: str | None = Query(None, max_length=24),
    before: int | None = Query(None, ge=1, description="the last id of the previous page"),
    limit: int = Query(50, ge=1, le=200),
) -> list[dict[str, Any]]:
    """Newest first. Each order says, per after-sales kind, whether its buyer may open a
    request now and, if not, why (AS-5/AS-6), and lists the after-sales requests already
    opened on it that the caller can see."""
    actor.require_scope("chat:read")
    query = select(Order).where(order_filter(actor))
    if shop is not None:
        query = query.where(Order.shop_id == shop)
    if status:
        query = query.where(Order.status == status)
    if before is not None:
        query = query.where(Order.id < before)
    orders = list(db.scalars(query.order_by(Order.id.desc()).limit(limit)))
    if not orders:
        return []
    ids = [o.id for o in orders]
    products = {
        p.id: p
        for p in db.scalars(select(Product).where(Product.id.in_({o.product_id for o in orders})))
    }
    requests: dict[int, list[dict[str, Any]]] = {}
    for case in db.scalars(
        select(Case)
        .where(case_filter(actor), Case.process == "aftersales", Case.order_id.in_(ids))
        .order_by(Case.id)
    ):
        assert case.order_id is not None
        requests.setdefault(case.order_id, []).append({"id": case.id, "state": case.state})
    now = clock()
    contexts: dict[int, Context] = {}
    out = []
    for o in orders:
        if o.shop_id not in contexts:
            contexts[o.shop_id] = repo.context_for(db, o.shop_id)
        product = products.get(o.product_id)
        out.append(
            {
                "id": o.id,
                "shop": o.shop_id,
                "buyer": o.buyer_id,
                "product": {"id": o.product_id, "title": product.title if product else None},
                "quantity": o.quantity,
                "total_cents": o.total_cents,
                "currency": product.currency if product else None,
                "status": o.status,
                "placed_at": repo.iso(o.placed_at),
                "shipped_at": repo.iso(o.shipped_at),
                "delivered_at": repo.iso(o.delivered_at),
                "aftersales": _aftersales(db, o, now, contexts[o.shop_id]),
                "aftersales_requests": requests.get(o.id, []),
            }
        )
    return out


def _aftersales(db: DB, order: Order, now: datetime, ctx: Context) -> dict[str, Any]:
    snapshot = repo.order_snapshot(db, order)
    kinds = []
    for kind in aftersales.AfterSalesKind:
        refusal = aftersales.check_request(snapshot, kind, now, ctx)
        kinds.append({"kind": kind.value, "open_now": refusal is None, "reason": refusal})
    return {"open_now": any(k["open_now"] for k in kinds), "kinds": kinds}
