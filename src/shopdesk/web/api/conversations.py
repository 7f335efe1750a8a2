"""Conversations and messages (CHAT-1…CHAT-9, CONTRACTS §5)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal, cast

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from shopdesk.chat import chatbot, service
from shopdesk.chat.assignment import assign_waiting, online_agents, shop_presence
from shopdesk.chat.group_commit import GroupCommitter, Outcome
from shopdesk.chat.service import ChatError
from shopdesk.store.access import (
    Actor,
    Forbidden,
    NotFound,
    conversation_filter,
    get_conversation,
    visible_conversations,
)
from shopdesk.store.kb_repo import auto_only_clause
from shopdesk.store.models import Conversation, Rating, Region, Shop, User
from shopdesk.store.prepared import PreparedCache, Statement, loaded
from shopdesk.web.deps import DB, AppSettings, AuthError, Clock, CurrentActor, resolve_caller
from shopdesk.web.errors import ApiError

log = logging.getLogger(__name__)
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


@dataclass(slots=True)
class _SendJob:
    request: Request
    conversation_id: int
    body: MessageIn


@dataclass(slots=True)
class _Sent:
    data: dict[str, Any]  # the stored message, as answered and pushed
    created: bool
    users: list[int]  # who is pushed the new message (empty for a replay)
    offer_ticket: bool  # rule CHAT-5: nobody of the shop is online
    bot_frames: list[dict[str, Any]] = field(default_factory=list)  # the chatbot's answers


# Refusals are raised before a send writes anything (the caller, the conversation, the draft,
# CHAT-3, screening), so a refused send in a batch leaves the others' transaction intact.
_REFUSALS = (AuthError, NotFound, Forbidden, ChatError, ApiError)


def _draft(body: MessageIn) -> service.Draft:
    return service.Draft(
        client_id=body.client_id, kind=body.kind, text=body.text,
        attachment_id=body.attachment, product_id=body.product, order_id=body.order,
    )


_CONV_KEYS = tuple(attr.key for attr in inspect(Conversation).column_attrs)
_CONV_COLUMNS = tuple(inspect(Conversation).attrs[key].columns[0] for key in _CONV_KEYS)
_VISIBLE_ROWS = PreparedCache(
    lambda actor: select(*_CONV_COLUMNS).where(
        conversation_filter(actor), Conversation.id == bindparam("conversation_id")
    )
)
_SHOP_KEYS = tuple(attr.key for attr in inspect(Shop).column_attrs)
_REGION_KEYS = tuple(attr.key for attr in inspect(Region).column_attrs)
_SHOP_AND_REGION = Statement(
    select(*(inspect(Shop).attrs[k].columns[0] for k in _SHOP_KEYS),
           *(inspect(Region).attrs[k].columns[0] for k in _REGION_KEYS))
    .outerjoin(Region, Region.id == Shop.region_id)
    .where(Shop.id == bindparam("shop_id"))
)


def _hold_shops(db: Session, shop_ids: set[int]) -> list[Any]:
    """The shops and their regions into the session, for the screener's and the chatbot's
    `session.get`s (built as loaded instances from prepared statements, cheaper than an ORM
    query); the caller keeps the returned list until the commit, as the identity map holds
    instances weakly."""
    connection = db.connection()
    held: list[Any] = []
    for shop_id in shop_ids:
        row = _SHOP_AND_REGION.first(connection, {"shop_id": shop_id})
        if row is None:
            continue
        parts: tuple[tuple[type[Any], tuple[str, ...], tuple[Any, ...]], ...] = (
            (Shop, _SHOP_KEYS, row[:len(_SHOP_KEYS)]),
            (Region, _REGION_KEYS, row[len(_SHOP_KEYS):]),
        )
        for cls, keys, values in parts:
            if values[0] is None or db.identity_map.get(identity_key(cls, values[0])):
                continue
            instance = loaded(cls, dict(zip(keys, values, strict=True)))
            db.add(instance)
            held.append(instance)
    return held


def _visible_conversation(db: Session, actor: Actor, conversation_id: int) -> Conversation:
    """`get_conversation` for a batch: the same tenant filter (`conversation_filter`), read as
    plain columns (a prepared statement per filter key, `store.prepared`) and attached to the
    session as a loaded Conversation. That costs a fraction of an ORM query; a conversation
    the session already holds (an earlier send of the batch) is returned as it is, as an ORM
    query would."""
    connection = db.connection()
    key = (actor.kind, actor.user_id, tuple(sorted(actor.shop_roles)))
    query = _VISIBLE_ROWS.get(connection.dialect, key, actor)
    row = query.first(connection, {"conversation_id": conversation_id})
    if row is None:
        raise NotFound("conversation")
    held = db.identity_map.get(identity_key(Conversation, row[0]))
    if held is not None:
        return cast(Conversation, held)
    conv = loaded(Conversation, dict(zip(_CONV_KEYS, row, strict=True)))
    db.add(conv)
    return conv


def _after_store(
    db: Session, app: Any, conv: Conversation, msg: Any, created: bool, now: datetime
) -> tuple[list[int], bool, list[dict[str, Any]]]:
    """Audience, ticket offer, assignment and chatbot of a stored message."""
    if not created:
        return [], False, []
    settings = app.state.settings
    # One query: the audience, who is online, and whether anything could be assigned
    # (assign_waiting's three queries run only then; it would assign nothing else).
    members, online, assignable = shop_presence(db, conv.shop_id)
    offer_ticket = False
    if msg.sender == "buyer":
        if assignable:
            assign_waiting(db, conv.shop_id, now, settings.agent_capacity)
        offer_ticket = online == 0
    # rules KB-7, EV-2: the chatbot answers or hands over; published after the commit.
    bot_frames = chatbot.after_message(db, conv, msg, now, app)
    return [conv.buyer_id, *members], offer_ticket, bot_frames


def _send_alone(job: _SendJob, lookup_first: bool) -> _Sent:
    """One send in its own transaction."""
    app = job.request.app
    now = app.state.clock()
    with app.state.sessions() as db, db.begin():
        actor, display_name = resolve_caller(db, job.request, now)
        conv = _visible_conversation(db, actor, job.conversation_id)
        _held = _hold_shops(db, {conv.shop_id})  # kept until the commit (weak identity map)
        msg, created = service.post_message(
            db, actor, conv, _draft(job.body), now,
            max_chars=app.state.settings.max_message_chars,
            screener=app.state.screener, lookup_first=lookup_first,
        )
        users, offer_ticket, bot_frames = _after_store(db, app, conv, msg, created, now)
        data = service.message_json(msg)
        data["author_name"] = display_name  # the author is the caller (a replay: theirs too)
        return _Sent(data, created, users, offer_ticket, bot_frames)


def _send_alone_with_retries(job: _SendJob) -> Outcome[_Sent]:
    for attempt in range(3):
        try:
            # The first attempt does not look the client_id up: a replay (or the same
            # client_id stored concurrently, e.g. by another process) fails the INSERT on
            # uq_messages_client_id, and the next attempt finds it and answers with it.
            return Outcome(_send_alone(job, lookup_first=attempt > 0))
        except IntegrityError as exc:
            if attempt == 2:
                return Outcome(error=exc)
        except Exception as exc:
            return Outcome(error=exc)
    raise AssertionError("unreachable")


def _send_together(app: Any, jobs: list[_SendJob]) -> list[Outcome[_Sent]]:
    """Every job of a batch in one transaction, in order. A refused job gets its refusal and
    the others go on; any other failure rolls the whole batch back and raises."""
    outcomes: list[Outcome[_Sent]] = [Outcome() for _ in jobs]
    max_chars = app.state.settings.max_message_chars
    screener = app.state.screener
    with app.state.sessions() as db, db.begin():
        admitted: list[tuple[int, Actor, str, Conversation, datetime]] = []
        for i, job in enumerate(jobs):
            now = app.state.clock()
            try:
                actor, display_name = resolve_caller(db, job.request, now)
                conv = _visible_conversation(db, actor, job.conversation_id)
            except _REFUSALS as exc:
                outcomes[i].error = exc
                continue
            admitted.append((i, actor, display_name, conv, now))
        # The batch's shops and regions in one query, for the screener's and chatbot's
        # `session.get`s; referenced until the commit, as the identity map holds rows weakly.
        _held = _hold_shops(db, {c.shop_id for _i, _a, _n, c, _t in admitted})
        # One lookup for every client_id of the batch; a message stored by an earlier job of
        # this batch is added to it, so a repeated client_id is answered as a replay.
        stored = service.find_stored(
            db, ((c.id, a.user_id, jobs[i].body.client_id) for i, a, _n, c, _t in admitted)
        )
        for i, actor, display_name, conv, now in admitted:
            try:
                msg, created = service.post_message(
                    db, actor, conv, _draft(jobs[i].body), now,
                    max_chars=max_chars, screener=screener, stored=stored,
                )
            except _REFUSALS as exc:
                outcomes[i].error = exc
                continue
            users, offer_ticket, bot_frames = _after_store(db, app, conv, msg, created, now)
            data = service.message_json(msg)
            data["author_name"] = display_name
            outcomes[i].value = _Sent(data, created, users, offer_ticket, bot_frames)
    return outcomes


def _send_batch(app: Any, jobs: list[_SendJob]) -> list[Outcome[_Sent]]:
    """Runs on the committer's worker thread; never raises."""
    try:
        return _send_together(app, jobs)
    except Exception:
        # A database error (a client_id stored meanwhile by another process, a dropped
        # connection, ...) lost the batch's transaction: each send goes again on its own, so
        # one send's failure neither loses nor reorders the others.
        log.info("a batch of %d sends failed; sending them one by one", len(jobs),
                 exc_info=True)
        return [_send_alone_with_retries(job) for job in jobs]


async def _publish_batch(app: Any, jobs: list[_SendJob], outcomes: Sequence[Outcome[_Sent]]
                         ) -> None:
    """Push the batch's new messages in the order their seqs were given."""
    broker = app.state.broker
    for job, outcome in zip(jobs, outcomes, strict=True):
        sent = outcome.value
        if sent is None or not sent.created:
            continue
        conversation = job.conversation_id
        await broker.publish(sent.users, {"type": "message", "conversation": conversation,
                                          "message": sent.data})
        for bot in sent.bot_frames:
            await broker.publish(sent.users, {"type": "message", "conversation": conversation,
                                              "message": bot})


def send_committer(app: Any) -> GroupCommitter[_SendJob, _Sent]:
    """The app's group committer for sends (see `shopdesk.chat.group_commit`). Sends share a
    transaction while the previous one commits; a batch's frames are published before the
    next batch's, so WebSocket clients receive a conversation's messages in seq order."""
    committer: GroupCommitter[_SendJob, _Sent] | None = getattr(
        app.state, "send_committer", None
    )
    if committer is None:
        committer = app.state.send_committer = GroupCommitter(
            partial(_send_batch, app), deliver=partial(_publish_batch, app)
        )
    return committer


@router.post(
    "/conversations/{conversation_id}/messages", status_code=201, response_model=dict[str, Any]
)
async def post_message(conversation_id: int, body: MessageIn, request: Request) -> Response:
    # Requests with a bearer token usually take `shopdesk.web.send_path` instead, which
    # ends in `send` as well.
    return await send(request, conversation_id, body)


async def send(request: Request, conversation_id: int, body: MessageIn) -> Response:
    """Submit a send to the group committer and answer with the stored message."""
    sent = await send_committer(request.app).submit(_SendJob(request, conversation_id, body))
    # The response is serialised here: FastAPI's validation and encoding of a returned dict
    # cost more than the JSON itself.
    return Response(
        json.dumps(sent.data, separators=(",", ":"), ensure_ascii=False),
        status_code=201 if sent.created else 200,
        media_type="application/json",
        headers={"X-Shopdesk-Offer-Ticket": "1"} if sent.offer_ticket else None,
    )


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
