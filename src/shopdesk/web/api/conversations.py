"""Conversations and messages (CHAT-1…CHAT-9, CONTRACTS §5)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select

from shopdesk.chat import service
from shopdesk.chat.assignment import assign_waiting, online_agents
from shopdesk.store.access import Actor, get_conversation, visible_conversations
from shopdesk.store.models import Conversation, Rating, User
from shopdesk.web.deps import DB, AppSettings, Clock, CurrentActor, resolve_actor

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
    queue: Literal["all", "mine", "unassigned", "waiting"] = "all",
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


class MessageIn(BaseModel):
    client_id: str = Field(min_length=1, max_length=64)
    kind: str = "text"
    text: str = ""
    attachment: int | None = None
    product: int | None = None
    order: int | None = None


def _send(request: Request, conversation_id: int, body: MessageIn) -> tuple[
    dict[str, Any], bool, list[int], bool
]:
    app = request.app
    now = app.state.clock()
    settings = app.state.settings
    with app.state.sessions() as db, db.begin():
        actor: Actor = resolve_actor(db, request, now)
        conv = get_conversation(db, actor, conversation_id)
        draft = service.Draft(
            client_id=body.client_id, kind=body.kind, text=body.text,
            attachment_id=body.attachment, product_id=body.product, order_id=body.order,
        )
        msg, created = service.post_message(
            db, actor, conv, draft, now, max_chars=settings.max_message_chars,
            screener=app.state.screener,
        )
        offer_ticket = False
        if created and msg.sender == "buyer":
            assign_waiting(db, conv.shop_id, now, settings.agent_capacity)
            offer_ticket = online_agents(db, conv.shop_id) == 0
        author = db.get(User, actor.user_id)
        data = service.message_json(msg, author)
        return data, created, service.audience(db, conv), offer_ticket


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def post_message(
    conversation_id: int, body: MessageIn, request: Request, response: Response
) -> dict[str, Any]:
    data, created, users, offer_ticket = await run_in_threadpool(
        _send, request, conversation_id, body
    )
    if created:
        await request.app.state.broker.publish(
            users, {"type": "message", "conversation": conversation_id, "message": data}
        )
    else:
        response.status_code = 200
    if offer_ticket:
        response.headers["X-Shopdesk-Offer-Ticket"] = "1"
    return data


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
        from shopdesk.web.errors import ApiError

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
    return {"id": r.id, "stars": r.stars, "at": r.at.isoformat().replace("+00:00", "Z")}


@router.get("/conversations/{conversation_id}/ratings")
def ratings(conversation_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    conv = get_conversation(db, actor, conversation_id)
    rows = db.scalars(select(Rating).where(Rating.conversation_id == conv.id).order_by(Rating.at))
    return [{"id": r.id, "stars": r.stars, "comment": r.comment,
             "at": r.at.isoformat().replace("+00:00", "Z")} for r in rows]
