"""Sending chat messages (CHAT-1…CHAT-9): sends that arrive together share one transaction.

`send` submits a send to the app's `GroupCommitter` (`shopdesk.chat.group_commit`); a batch
of sends is stored in one transaction by `_send_together`, then published in seq order.
What a batch reads once for all its sends — the conversations, their shops and regions, the
shops' teams and presence, the stored client_ids — is read with one statement each, not once
per send: that, more than the message's own INSERT, is what a send costs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopdesk.chat import chatbot, service
from shopdesk.chat.assignment import Presence, assign_waiting, presence_of
from shopdesk.chat.group_commit import GroupCommitter, Outcome
from shopdesk.chat.service import ChatError
from shopdesk.store.access import Actor, Forbidden, NotFound, sees_conversation
from shopdesk.store.db import checkpoint
from shopdesk.store.models import Conversation, Region, Shop
from shopdesk.store.prepared import PreparedCache, load_into
from shopdesk.web.deps import AuthError, resolve_caller
from shopdesk.web.errors import ApiError

log = logging.getLogger(__name__)


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
    encoded: str = ""

    def json(self) -> str:
        """`data` as JSON, encoded once for the answer and the push."""
        if not self.encoded:
            self.encoded = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)
        return self.encoded


# Refusals are raised before a send writes anything (the caller, the conversation, the draft,
# CHAT-3, screening), so a refused send in a batch leaves the others' transaction intact.
_REFUSALS = (AuthError, NotFound, Forbidden, ChatError, ApiError)


def _draft(body: MessageIn) -> service.Draft:
    return service.Draft(
        client_id=body.client_id, kind=body.kind, text=body.text,
        attachment_id=body.attachment, product_id=body.product, order_id=body.order,
    )


def _in(column: Any, n: int) -> Any:
    """`column IN (:k0, …, :kn-1)`: one prepared statement per list length."""
    return column.in_([bindparam(f"k{i}") for i in range(n)])


def _keys(values: Sequence[int]) -> dict[str, int]:
    return {f"k{i}": v for i, v in enumerate(values)}


_CONV_KEYS = tuple(attr.key for attr in inspect(Conversation).column_attrs)
_CONVERSATIONS = PreparedCache(lambda n: select(
    *(inspect(Conversation).attrs[k].columns[0] for k in _CONV_KEYS)
).where(_in(Conversation.id, n)))
_SHOP_KEYS = tuple(attr.key for attr in inspect(Shop).column_attrs)
_REGION_KEYS = tuple(attr.key for attr in inspect(Region).column_attrs)
_SHOPS = PreparedCache(lambda n: select(
    *(inspect(Shop).attrs[k].columns[0] for k in _SHOP_KEYS),
    *(inspect(Region).attrs[k].columns[0] for k in _REGION_KEYS),
).outerjoin(Region, Region.id == Shop.region_id).where(_in(Shop.id, n)))


@dataclass
class _Batch:
    """What a batch read once for its sends. The instances are kept here until the commit:
    the session's identity map holds them only weakly."""

    conversations: dict[int, Conversation]
    held: list[Any]
    presence: dict[int, Presence] = field(default_factory=dict)

    def visible(self, actor: Actor, conversation_id: int) -> Conversation:
        """The conversation if `actor` may see it (`conversation_filter`'s rule), else
        NotFound, as `get_conversation` answers."""
        conv = self.conversations.get(conversation_id)
        if conv is None or not sees_conversation(actor, conv.shop_id, conv.buyer_id):
            raise NotFound("conversation")
        return conv


def _read_conversations(db: Session, ids: set[int]) -> _Batch:
    """The batch's conversations, with their shops and regions (for the screener's and the
    chatbot's `session.get`s), into the session as if queried — at a fraction of an ORM
    query's cost (`store.prepared`)."""
    connection = db.connection()
    dialect = connection.dialect
    ordered = sorted(ids)
    batch = _Batch({}, [])
    for row in _CONVERSATIONS.get(dialect, len(ordered), len(ordered)).all(
        connection, _keys(ordered)
    ):
        conv = load_into(db, Conversation, dict(zip(_CONV_KEYS, row, strict=True)))
        batch.conversations[conv.id] = conv
    shops = sorted({c.shop_id for c in batch.conversations.values()})
    if shops:
        n_shop = len(_SHOP_KEYS)
        for row in _SHOPS.get(dialect, len(shops), len(shops)).all(connection, _keys(shops)):
            batch.held.append(load_into(db, Shop, dict(zip(_SHOP_KEYS, row[:n_shop],
                                                           strict=True))))
            if row[n_shop] is not None:
                batch.held.append(load_into(db, Region, dict(zip(_REGION_KEYS, row[n_shop:],
                                                                 strict=True))))
    return batch


def _after_store(
    db: Session, app: Any, batch: _Batch, conv: Conversation, msg: Any, created: bool,
    now: datetime,
) -> tuple[list[int], bool, list[dict[str, Any]]]:
    """Audience, ticket offer, assignment and chatbot of a stored message."""
    if not created:
        return [], False, []
    if conv.shop_id not in batch.presence:
        batch.presence.update(presence_of(db, [conv.shop_id]))
    presence = batch.presence[conv.shop_id]
    offer_ticket = False
    if msg.sender == "buyer":
        waits = conv.assigned_agent_id is None and conv.waiting_since is not None
        if presence.agents_online and (waits or presence.waiting):
            assign_waiting(db, conv.shop_id, now, app.state.settings.agent_capacity)
            # What is left waiting found every online agent at capacity; a send does not
            # free capacity, so only a newly waiting conversation may be assigned again.
            presence.waiting = False
        offer_ticket = presence.online == 0
    # rules KB-7, EV-2: the chatbot answers or hands over; published after the commit.
    bot_frames = chatbot.after_message(db, conv, msg, now, app)
    return [conv.buyer_id, *presence.members], offer_ticket, bot_frames


def _send_alone(job: _SendJob, lookup_first: bool) -> _Sent:
    """One send in its own transaction."""
    app = job.request.app
    now = app.state.clock()
    with app.state.sessions() as db, db.begin():
        actor, display_name = resolve_caller(db, job.request, now)
        batch = _read_conversations(db, {job.conversation_id})
        conv = batch.visible(actor, job.conversation_id)
        msg, created = service.post_message(
            db, actor, conv, _draft(job.body), now,
            max_chars=app.state.settings.max_message_chars,
            screener=app.state.screener, lookup_first=lookup_first,
        )
        users, offer_ticket, bot_frames = _after_store(db, app, batch, conv, msg, created, now)
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


class _Prescreened:
    """The batch's text drafts screened one after the other before any is stored, then
    answered from that when `post_message` asks. Screening the batch's messages together
    costs a fraction of screening each between its statements: the screening engine's
    tables stay in the CPU's caches (~12 µs a message, against ~100 µs when every message
    first brings them back). A draft whose conversation had an earlier draft in the batch is
    screened when it is stored, as a seller's is screened with the messages before it."""

    def __init__(self, screener: service.Screener | None, db: Session,
                 drafts: list[tuple[service.Draft, Actor, Conversation]]) -> None:
        self._screener = screener
        self._results: dict[int, service.Screening | None] = {}
        if screener is None:
            return
        seen: set[int] = set()
        for draft, actor, conv in drafts:
            first = conv.id not in seen
            seen.add(conv.id)
            if first and draft.kind in _PLAIN_KINDS and draft.attachment_id is None:
                self._results[id(draft)] = screener(db, draft, actor, conv)

    def __call__(self, session: Session, draft: service.Draft, actor: Actor,
                 conv: Conversation) -> service.Screening | None:
        if id(draft) in self._results:
            return self._results.pop(id(draft))
        return self._screener(session, draft, actor, conv) if self._screener else None


_PLAIN_KINDS = frozenset({"text", "emoji", "sticker"})


def _send_together(app: Any, jobs: list[_SendJob], sessions: Any) -> list[Outcome[_Sent]]:
    """Every job of a batch in one transaction, in order. A refused job gets its refusal and
    the others go on; any other failure rolls the whole batch back and raises."""
    outcomes: list[Outcome[_Sent]] = [Outcome() for _ in jobs]
    max_chars = app.state.settings.max_message_chars
    screener = app.state.screener
    with sessions() as db, db.begin():
        callers: list[tuple[int, Actor, str, datetime]] = []
        for i, job in enumerate(jobs):
            now = app.state.clock()
            try:
                actor, display_name = resolve_caller(db, job.request, now)
            except _REFUSALS as exc:
                outcomes[i].error = exc
                continue
            callers.append((i, actor, display_name, now))
        batch = _read_conversations(db, {jobs[i].conversation_id for i, *_ in callers})
        admitted: list[tuple[int, Actor, str, Conversation, datetime]] = []
        for i, actor, display_name, now in callers:
            try:
                conv = batch.visible(actor, jobs[i].conversation_id)
            except NotFound as exc:
                outcomes[i].error = exc
                continue
            admitted.append((i, actor, display_name, conv, now))
        batch.presence = presence_of(db, sorted({c.shop_id for _i, _a, _n, c, _t in admitted}))
        # One lookup for every client_id of the batch; a message stored by an earlier job of
        # this batch is added to it, so a repeated client_id is answered as a replay.
        stored = service.find_stored(
            db, ((c.id, a.user_id, jobs[i].body.client_id) for i, a, _n, c, _t in admitted)
        )
        drafts = {i: _draft(jobs[i].body) for i, *_ in admitted}
        screened = _Prescreened(screener, db, [
            (drafts[i], actor, conv) for i, actor, _n, conv, _t in admitted
        ])
        stored_now: list[tuple[int, str, Any, bool, list[int], bool, list[dict[str, Any]]]] = []
        for i, actor, display_name, conv, now in admitted:
            try:
                msg, created = service.post_message(
                    db, actor, conv, drafts[i], now,
                    max_chars=max_chars, screener=screened, stored=stored,
                )
            except _REFUSALS as exc:
                outcomes[i].error = exc
                continue
            users, offer_ticket, bot_frames = _after_store(
                db, app, batch, conv, msg, created, now
            )
            stored_now.append((i, display_name, msg, created, users, offer_ticket, bot_frames))
        for i, display_name, msg, created, users, offer_ticket, bot_frames in stored_now:
            data = service.message_json(msg)
            data["author_name"] = display_name
            outcomes[i].value = _Sent(data, created, users, offer_ticket, bot_frames)
    return outcomes


def _send_inline(app: Any, jobs: list[_SendJob]) -> list[Outcome[_Sent]] | None:
    """The batch on the event loop's own thread, when the database is SQLite: its statements
    are CPU work in this process, and the hop to a worker thread and back, with the two
    threads taking the GIL from each other at every statement, cost more than they do. The
    loop must not wait, so the inline writer takes the write lock at once or fails
    (`store.db.make_inline_writer`); on that or any other failure nothing was committed and
    the batch goes to the thread (None)."""
    sessions = app.state.inline_sessions
    if sessions is None:
        return None
    try:
        outcomes = _send_together(app, jobs, sessions)
    except Exception:
        log.debug("an inline batch failed; sending it on a thread", exc_info=True)
        return None
    _checkpoint_soon(app)
    return outcomes


CHECKPOINT_SECONDS = 1.0


def _checkpoint_soon(app: Any) -> None:
    """The inline writer never checkpoints the WAL (an fsync on the loop); a thread does it
    at most every CHECKPOINT_SECONDS while inline batches commit."""
    now = time.monotonic()
    if now < getattr(app.state, "checkpoint_due", 0.0):
        return
    app.state.checkpoint_due = now + CHECKPOINT_SECONDS
    asyncio.get_running_loop().run_in_executor(None, _checkpoint, app.state.engine)


def _checkpoint(engine: Any) -> None:
    try:
        checkpoint(engine)
    except Exception:  # the next one will do; commits go on either way
        log.warning("checkpointing the WAL failed", exc_info=True)


def _send_batch(app: Any, jobs: list[_SendJob]) -> list[Outcome[_Sent]]:
    """Runs on the committer's worker thread; never raises."""
    try:
        return _send_together(app, jobs, app.state.sessions)
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
        # The frame around the answer's own JSON (encoded once for both).
        frame = f'{{"type":"message","conversation":{int(conversation)},"message":{sent.json()}}}'
        await broker.publish_text(sent.users, frame)
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
            partial(_send_batch, app), inline=partial(_send_inline, app),
            deliver=partial(_publish_batch, app),
        )
    return committer


async def send(request: Request, conversation_id: int, body: MessageIn) -> Response:
    """Submit a send to the group committer and answer with the stored message."""
    sent = await send_committer(request.app).submit(_SendJob(request, conversation_id, body))
    # The response is serialised here: FastAPI's validation and encoding of a returned dict
    # cost more than the JSON itself.
    return Response(
        sent.json(),
        status_code=201 if sent.created else 200,
        media_type="application/json",
        headers={"X-Shopdesk-Offer-Ticket": "1"} if sent.offer_ticket else None,
    )
