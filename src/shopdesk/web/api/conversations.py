"""Conversations and messages (CHAT-1…CHAT-9, CONTRACTS §5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from shopdesk.chat import chatbot, service
from shopdesk.chat.assignment import assign_waiting, online_agents, shop_presence
from shopdesk.store.access import (
    Actor,
    NotFound,
    get_conversation,
    visible_conversations,
)
from shopdesk.store.kb_repo import auto_only_clause
from shopdesk.store.models import Conversation, Rating, Region, Shop, User
from shopdesk.web.deps import DB, AppSettings, Clock, CurrentActor, resolve_caller

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


class MessageIn(BaseModel):
    client_id: str = Field(min_length=1, max_length=64)
    kind: str = "text"
    text: str = ""
    attachment: int | None = None
    product: int | None = None
    order: int | None = None


_SEND_QUERIES: dict[tuple[str, int, tuple[int, ...]], Any] = {}


def _conversation_for_send(db: Any, actor: Actor, conversation_id: int) -> tuple[
    Conversation, Shop | None, Region | None
]:
    """`get_conversation` that also loads the shop and its region in the same query, so the
    screener's and the chatbot's `session.get(Shop/Region)` find them in the identity map
    (the caller keeps references to them for the whole transaction). The statement depends
    only on what `visible_conversations` filters by, so it is built once per such key."""
    key = (actor.kind, actor.user_id, tuple(sorted(actor.shop_roles)))
    query = _SEND_QUERIES.get(key)
    if query is None:
        query = (
            visible_conversations(actor)
            .add_columns(Shop, Region)
            .outerjoin(Shop, Shop.id == Conversation.shop_id)
            .outerjoin(Region, Region.id == Shop.region_id)
            .where(Conversation.id == bindparam("conversation_id"))
        )
        if len(_SEND_QUERIES) >= 10_000:
            _SEND_QUERIES.clear()
        _SEND_QUERIES[key] = query
    row = db.execute(query, {"conversation_id": conversation_id}).first()
    if row is None:
        raise NotFound("conversation")
    return row[0], row[1], row[2]


def _send(
    request: Request, conversation_id: int, body: MessageIn, lookup_first: bool = False
) -> tuple[dict[str, Any], bool, list[int], bool]:
    app = request.app
    now = app.state.clock()
    settings = app.state.settings
    with app.state.sessions() as db, db.begin():
        actor, display_name = resolve_caller(db, request, now)
        conv, _shop, _region = _conversation_for_send(db, actor, conversation_id)
        draft = service.Draft(
            client_id=body.client_id, kind=body.kind, text=body.text,
            attachment_id=body.attachment, product_id=body.product, order_id=body.order,
        )
        msg, created = service.post_message(
            db, actor, conv, draft, now, max_chars=settings.max_message_chars,
            screener=app.state.screener, lookup_first=lookup_first,
        )
        offer_ticket = False
        users: list[int] = []
        if created:
            # One query: the audience, who is online, and whether anything could be assigned
            # (assign_waiting's three queries run only then; it would assign nothing else).
            members, online, assignable = shop_presence(db, conv.shop_id)
            users = [conv.buyer_id, *members]
            if msg.sender == "buyer":
                if assignable:
                    assign_waiting(db, conv.shop_id, now, settings.agent_capacity)
                offer_ticket = online == 0
        # rules KB-7, EV-2: the chatbot answers or hands over; published after the commit.
        request.state.bot_frames = chatbot.after_message(db, conv, msg, now, app) if created else []
        data = service.message_json(msg)
        data["author_name"] = display_name  # the author is the caller (a replay: theirs too)
        return data, created, users, offer_ticket


def _send_with_retries(
    request: Request, conversation_id: int, body: MessageIn
) -> tuple[dict[str, Any], bool, list[int], bool]:
    for attempt in range(3):
        try:
            # The first attempt does not look the client_id up: a replay (or the same
            # client_id stored concurrently, e.g. by another process) fails the INSERT on
            # uq_messages_client_id, and the next attempt finds it and answers with it.
            return _send(request, conversation_id, body, lookup_first=attempt > 0)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# Sends to one conversation are serialised in this process from before the seq increment until
# the frame is published, so WebSocket clients receive a conversation's messages in seq order
# (committing and publishing separately let a later seq overtake an earlier one). The lock is
# an asyncio.Lock per conversation with waiters, held on the event loop: waiting costs no
# worker thread, and publishing needs no hop back from the thread. The database row lock
# serialises these sends anyway.
_SEND_LOCKS_KEY = "conversation_send_locks"


@asynccontextmanager
async def _conversation_turn(request: Request, conversation_id: int) -> AsyncIterator[None]:
    state = request.app.state
    locks: dict[int, tuple[asyncio.Lock, list[int]]] | None = getattr(state, _SEND_LOCKS_KEY, None)
    if locks is None:
        locks = {}
        setattr(state, _SEND_LOCKS_KEY, locks)
    entry = locks.get(conversation_id)
    if entry is None:
        entry = locks[conversation_id] = (asyncio.Lock(), [0])
    lock, users = entry
    users[0] += 1
    try:
        async with lock:
            yield
    finally:
        users[0] -= 1
        if users[0] == 0:
            del locks[conversation_id]


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def post_message(
    conversation_id: int, body: MessageIn, request: Request, response: Response
) -> dict[str, Any]:
    async with _conversation_turn(request, conversation_id):
        # Shielded: once the message is being stored, its frames are published.
        with anyio.CancelScope(shield=True):
            data, created, users, offer_ticket = await run_in_threadpool(
                _send_with_retries, request, conversation_id, body
            )
            if created:
                broker = request.app.state.broker
                frame = {"type": "message", "conversation": conversation_id, "message": data}
                await broker.publish(users, frame)
                for bot in getattr(request.state, "bot_frames", []):
                    frame = {"type": "message", "conversation": conversation_id, "message": bot}
                    await broker.publish(users, frame)
    if not created:
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
    chatbot.after_rating(db, conv, r)
    return {"id": r.id, "stars": r.stars, "at": r.at.isoformat().replace("+00:00", "Z")}


@router.get("/conversations/{conversation_id}/ratings")
def ratings(conversation_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    conv = get_conversation(db, actor, conversation_id)
    rows = db.scalars(select(Rating).where(Rating.conversation_id == conv.id).order_by(Rating.at))
    return [{"id": r.id, "stars": r.stars, "comment": r.comment,
             "at": r.at.isoformat().replace("+00:00", "Z")} for r in rows]
