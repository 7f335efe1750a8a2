"""Conversations and messages (CHAT-1…CHAT-9, CONTRACTS §5)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from shopdesk.chat import chatbot, service
from shopdesk.chat.assignment import assign_waiting, online_agents
from shopdesk.store.access import get_conversation, visible_conversations
from shopdesk.store.kb_repo import auto_only_clause
from shopdesk.store.models import Conversation, Rating, User
from shopdesk.web.api.sending import MessageIn, send, send_committer
from shopdesk.web.deps import DB, AppSettings, Clock, CurrentActor
from shopdesk.web.errors import ApiError

__all__ = ["router", "send", "send_committer"]

router = APIRouter(tags=["conversations"])


class ConversationIn(BaseModel):
    shop: int
    product: int | None = None
    order: int | None = None


@router.post("/conversations")
def open_conversation(
    body: ConversationIn, response: Response, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    actor.require_scope("chat:write")
    conv, created = service.open_conversation(
        db, actor, body.shop, clock(), product_id=body.product, order_id=body.order
    )
    response.status_code = 201 if created else 200
    out = service.conversation_json(conv)
    # rule CHAT-5: with nobody online the buyer is offered a ticket.
    out["offer_ticket"] = online_agents(db, conv.shop_id) == 0
    return out


@router.get("/conversations")
def list_conversations(
    actor: CurrentActor,
    db: DB,
    shop: int | None = None,
    queue: Literal["all", "mine", "unassigned", "waiting", "auto_only"] = "all",
    limit: int = Query(default=100, ge=1, le=500),
) -> list[dict[str, Any]]:
    actor.require_scope("chat:read")
    q = visible_conversations(actor)
    if shop is not None:
        q = q.where(Conversation.shop_id == shop)
    if queue == "mine":
        q = q.where(Conversation.assigned_agent_id == actor.user_id)
    elif queue == "unassigned":
        q = q.where(Conversation.assigned_agent_id.is_(None),
                    Conversation.waiting_since.is_not(None))
    elif queue == "waiting":
        q = q.where(Conversation.waiting_since.is_not(None))
    elif queue == "auto_only":  # rule KB-6: answered only automatically, a person should look
        q = q.where(auto_only_clause())
    q = q.order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id).limit(limit)
    convs = list(db.scalars(q))
    buyers = {u.id: u for u in db.scalars(select(User).where(
        User.id.in_({c.buyer_id for c in convs})))}
    out = []
    for c in convs:
        item = service.conversation_json(c)
        item["buyer_name"] = buyers[c.buyer_id].display_name if c.buyer_id in buyers else None
        out.append(item)
    return out


@router.get("/conversations/{conversation_id}")
def get_one(conversation_id: int, actor: CurrentActor, db: DB) -> dict[str, Any]:
    actor.require_scope("chat:read")
    return service.conversation_json(get_conversation(db, actor, conversation_id))


@router.get("/conversations/{conversation_id}/messages")
def list_messages(
    conversation_id: int,
    actor: CurrentActor,
    db: DB,
    after_seq: int = Query(default=0, ge=0),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    actor.require_scope("chat:read")
    conv = get_conversation(db, actor, conversation_id)
    msgs = service.list_messages(db, conv, after_seq, limit)
    authors = {u.id: u for u in db.scalars(select(User).where(
        User.id.in_({m.author_id for m in msgs if m.author_id})))}
    return [service.message_json(m, authors.get(m.author_id or 0)) for m in msgs]


@router.post(
    "/conversations/{conversation_id}/messages", status_code=201, response_model=dict[str, Any]
)
async def post_message(conversation_id: int, body: MessageIn, request: Request) -> Response:
    # Requests with a bearer token usually take `shopdesk.web.send_path` instead, which
    # ends in `send` as well.
    return await send(request, conversation_id, body)


class AssignIn(BaseModel):
    agent: int | None = None


@router.post("/conversations/{conversation_id}/take")
def take(conversation_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    conv = get_conversation(db, actor, conversation_id)
    service.assign_to(db, actor, conv, actor.user_id, clock(), "take")
    return service.conversation_json(conv)


@router.post("/conversations/{conversation_id}/release")
def release(
    conversation_id: int, actor: CurrentActor, db: DB, clock: Clock, settings: AppSettings
) -> dict[str, Any]:
    conv = get_conversation(db, actor, conversation_id)
    service.assign_to(db, actor, conv, None, clock(), "release")
    db.flush()
    assign_waiting(db, conv.shop_id, clock(), settings.agent_capacity)
    return service.conversation_json(conv)


@router.post("/conversations/{conversation_id}/transfer")
def transfer(
    conversation_id: int, body: AssignIn, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    conv = get_conversation(db, actor, conversation_id)
    if body.agent is None:
        raise ApiError(422, "invalid_agent", "name the agent to transfer to")
    service.assign_to(db, actor, conv, body.agent, clock(), "transfer")
    return service.conversation_json(conv)


@router.post("/conversations/{conversation_id}/close")
def close(
    conversation_id: int, actor: CurrentActor, db: DB, clock: Clock, settings: AppSettings
) -> dict[str, Any]:
    conv = get_conversation(db, actor, conversation_id)
    service.close_conversation(db, actor, conv, clock())
    db.flush()
    assign_waiting(db, conv.shop_id, clock(), settings.agent_capacity)
    return service.conversation_json(conv)


class RatingIn(BaseModel):
    stars: int
    comment: str = Field(default="", max_length=1000)


@router.post("/conversations/{conversation_id}/rating", status_code=201)
def rate(
    conversation_id: int, body: RatingIn, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    conv = get_conversation(db, actor, conversation_id)
    r = service.rate(db, actor, conv, body.stars, body.comment, clock())
    db.flush()
    chatbot.after_rating(db, conv, r)
    return {"id": r.id, "stars": r.stars, "at": r.at.isoformat().replace("+00:00", "Z")}


@router.get("/conversations/{conversation_id}/ratings")
def ratings(conversation_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    conv = get_conversation(db, actor, conversation_id)
    rows = db.scalars(select(Rating).where(Rating.conversation_id == conv.id).order_by(Rating.at))
    return [{"id": r.id, "stars": r.stars, "comment": r.comment,
             "at": r.at.isoformat().replace("+00:00", "Z")} for r in rows]
