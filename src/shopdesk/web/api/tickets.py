"""Offline tickets: a buyer who finds nobody online leaves a ticket for the shop (CHAT-5)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from shopdesk.store.access import get_conversation, get_shop, get_ticket, ticket_filter
from shopdesk.store.accounts import audit
from shopdesk.store.models import OfflineTicket
from shopdesk.web.deps import DB, Clock, CurrentActor
from shopdesk.web.errors import ApiError

router = APIRouter(tags=["tickets"])


def ticket_json(t: OfflineTicket) -> dict[str, Any]:
    return {
        "id": t.id, "shop": t.shop_id, "buyer": t.buyer_id, "conversation": t.conversation_id,
        "text": t.text, "status": t.status,
        "created_at": t.created_at.isoformat().replace("+00:00", "Z"),
        "handled_by": t.handled_by_id,
        "handled_at": t.handled_at.isoformat().replace("+00:00", "Z") if t.handled_at else None,
    }


class TicketIn(BaseModel):
    shop: int
    text: str = Field(min_length=1, max_length=4000)
    conversation: int | None = None


@router.post("/tickets", status_code=201)
def create(body: TicketIn, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    if not actor.is_buyer:
        raise ApiError(403, "role_forbidden", "offline tickets are left by buyers")
    get_shop(db, actor, body.shop)
    if body.conversation is not None:
        conv = get_conversation(db, actor, body.conversation)
        if conv.shop_id != body.shop:
            raise ApiError(422, "invalid_conversation", "that conversation is with another shop")
    t = OfflineTicket(shop_id=body.shop, buyer_id=actor.user_id,
                      conversation_id=body.conversation, text=body.text, created_at=clock())
    db.add(t)
    db.flush()
    audit(db, actor, "ticket.create", "ticket", t.id, now=clock(), shop_id=body.shop)
    return ticket_json(t)


@router.get("/tickets")
def list_tickets(
    actor: CurrentActor, db: DB, status: Literal["open", "handled", "all"] = "open"
) -> list[dict[str, Any]]:
    q = select(OfflineTicket).where(ticket_filter(actor)).order_by(OfflineTicket.created_at)
    if status != "all":
        q = q.where(OfflineTicket.status == status)
    return [ticket_json(t) for t in db.scalars(q)]


@router.post("/tickets/{ticket_id}/handle")
def handle(ticket_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    t = get_ticket(db, actor, ticket_id)
    actor.require_shop_role(t.shop_id)
    if t.status == "handled":
        raise ApiError(409, "already_handled", "this ticket was already handled")
    t.status, t.handled_by_id, t.handled_at = "handled", actor.user_id, clock()
    audit(db, actor, "ticket.handle", "ticket", t.id, now=clock(), shop_id=t.shop_id)
    return ticket_json(t)
