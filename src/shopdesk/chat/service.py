"""Conversations and messages on the live system (CHAT-1…CHAT-9)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopdesk.store.access import Actor, NotFound, get_shop
from shopdesk.store.accounts import audit
from shopdesk.store.kb_repo import auto_only
from shopdesk.store.models import (
    Attachment,
    Conversation,
    ConversationEvent,
    Membership,
    Message,
    Order,
    Product,
    Rating,
    User,
)
from shopdesk.store.prepared import Statement, connection_of, load_into
from shopdesk.store.types import iso

_CONV_KEYS = tuple(attr.key for attr in inspect(Conversation).column_attrs)
_MESSAGES = cast(Table, Message.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_C = _CONVERSATIONS.c
_NOW = bindparam("now", type_=_C.last_message_at.type)  # typed: stored as UTC on SQLite too


def _next_seq(**changes: Any) -> Any:
    """The seq increment with the conversation changes a message of one kind of sender makes,
    returning the conversation's new state. Built once per kind: statement construction and
    cache-key generation cost more than executing them."""
    return (
        _CONVERSATIONS.update()
        .where(_C.id == bindparam("conv_id"))
        .values(last_seq=_C.last_seq + 1, last_message_at=_NOW, **changes)
        .returning(*(inspect(Conversation).attrs[key].columns[0] for key in _CONV_KEYS))
    )


# A buyer's message: the buyer has written (CHAT-3) and the conversation waits from its first
# unanswered buyer message. A shop agent's: nobody waits any more, and an unassigned
# conversation goes to the agent who answers; an owner's or admin's answer assigns nobody.
# The platform's: only the seq moves on.
_NEXT_SEQ_BY_SENDER = {kind: Statement(stmt) for kind, stmt in {
    "buyer": _next_seq(buyer_has_written=True, waiting_since=func.coalesce(_C.waiting_since, _NOW)),
    "agent": _next_seq(
        waiting_since=None,
        assigned_at=case((_C.assigned_agent_id.is_(None), _NOW), else_=_C.assigned_at),
        assigned_agent_id=func.coalesce(
            _C.assigned_agent_id, bindparam("author", type_=_C.assigned_agent_id.type)
        ),
    ),
    "shop": _next_seq(waiting_since=None),
    "other": _next_seq(),
}.items()}
_MESSAGE_VALUES = ("conversation_id", "seq", "at", "sender", "sender_role", "author_id", "kind",
                   "text", "attachment_id", "payload", "client_id", "screening")
_INSERT_MESSAGE = Statement(_MESSAGES.insert().returning(_MESSAGES.c.id), _MESSAGE_VALUES)

MESSAGE_KINDS = ("text", "sticker", "emoji", "image", "video", "product_card", "order_card")


class ChatError(Exception):
    """A refused chat action; `code` is stable, the message is for people."""

    def __init__(self, message: str, code: str, status: int = 409, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = extra


@dataclass
class Draft:
    client_id: str
    kind: str = "text"
    text: str = ""
    attachment_id: int | None = None
    product_id: int | None = None
    order_id: int | None = None


@dataclass
class Screening:
    """What the send path learned from screening a draft (SCR-D1)."""

    verdict: str  # block | flag | allow
    findings: list[dict[str, Any]] = field(default_factory=list)


Screener = Callable[[Session, Draft, Actor, Conversation], Screening | None]


def sender_of(actor: Actor, conv: Conversation) -> tuple[str, str]:
    """(CONTRACTS §1 sender, detailed role) of a message this actor writes in `conv`."""
    if actor.is_buyer and conv.buyer_id == actor.user_id:
        return "buyer", "buyer"
    if actor.is_staff:
        return "platform", "staff"
    role = actor.role_in(conv.shop_id)
    if role is None:
        raise NotFound("conversation")
    return "agent", role


def open_conversation(
    session: Session,
    actor: Actor,
    shop_id: int,
    now: datetime,
    product_id: int | None = None,
    order_id: int | None = None,
) -> tuple[Conversation, bool]:
    if not actor.is_buyer:
        # rule CHAT-3: only a buyer starts a conversation; sellers answer.
        raise ChatError(
            "only buyers start conversations; a shop may only write to buyers who contacted it "
            "(CHAT-3)",
            code="chat3_seller_cannot_initiate",
            status=403,
        )
    get_shop(session, actor, shop_id)
    if product_id is not None:
        _product_of_shop(session, product_id, shop_id)
    if order_id is not None:
        _order_of(session, order_id, shop_id, actor.user_id)
    existing = session.scalars(
        select(Conversation).where(
            Conversation.shop_id == shop_id, Conversation.buyer_id == actor.user_id
        )
    ).first()
    if existing is not None:
        if product_id is not None:
            existing.product_id = product_id
        if order_id is not None:
            existing.order_id = order_id
        return existing, False
    conv = Conversation(
        shop_id=shop_id,
        buyer_id=actor.user_id,
        product_id=product_id,
        order_id=order_id,
        created_at=now,
        last_seq=0,
    )
    try:
        with session.begin_nested():
            session.add(conv)
    except IntegrityError:  # the same buyer opened it concurrently
        conv = session.scalars(
            select(Conversation).where(
                Conversation.shop_id == shop_id, Conversation.buyer_id == actor.user_id
            )
        ).one()
        return conv, False
    audit(session, actor, "conversation.open", "conversation", conv.id, now=now, shop_id=shop_id)
    return conv, True


def _product_of_shop(session: Session, product_id: int, shop_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.shop_id != shop_id:
        raise ChatError("that product is not sold by this shop", "invalid_product", 422)
    return product


def _order_of(session: Session, order_id: int, shop_id: int, buyer_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.shop_id != shop_id or order.buyer_id != buyer_id:
        raise ChatError("that order is not between this buyer and shop", "invalid_order", 422)
    return order


def _validate_draft(
    session: Session, actor: Actor, conv: Conversation, draft: Draft, max_chars: int
) -> dict[str, Any] | None:
    if not draft.client_id or len(draft.client_id) > 64:
        raise ChatError("client_id is required (1–64 characters)", "invalid_client_id", 422)
    if draft.kind not in MESSAGE_KINDS:
        raise ChatError(
            f"kind must be one of {', '.join(MESSAGE_KINDS)}", "invalid_kind", 422
        )
    if len(draft.text) > max_chars:
        raise ChatError(
            f"a message may have at most {max_chars} characters", "message_too_long", 422
        )
    payload: dict[str, Any] | None = None
    if draft.kind in ("text", "sticker", "emoji") and not draft.text.strip():
        raise ChatError(f"a {draft.kind} message needs text", "empty_message", 422)
    if draft.kind in ("image", "video"):
        if draft.kind == "video":
            raise ChatError(
                "video messages are not accepted yet; send an image or a link to the listing",
                "unsupported_kind",
                422,
            )
        att = session.get(Attachment, draft.attachment_id) if draft.attachment_id else None
        if att is None or att.owner_id != actor.user_id:
            raise ChatError(
                "an image message needs an attachment_id you uploaded", "invalid_attachment", 422
            )
        if not att.content_type.startswith("image/"):
            # Case evidence may be a PDF (POST /casework/files); chat shows images only.
            raise ChatError(
                "only an image can be sent in the chat; this file is "
                f"{att.content_type}", "invalid_attachment", 422,
            )
    if draft.kind == "product_card":
        if draft.product_id is None:
            raise ChatError("a product card needs product_id", "invalid_product", 422)
        p = _product_of_shop(session, draft.product_id, conv.shop_id)
        payload = {"product": p.id, "title": p.title, "price_cents": p.price_cents,
                   "currency": p.currency}
    if draft.kind == "order_card":
        if draft.order_id is None:
            raise ChatError("an order card needs order_id", "invalid_order", 422)
        o = _order_of(session, draft.order_id, conv.shop_id, conv.buyer_id)
        payload = {"order": o.id, "status": o.status, "total_cents": o.total_cents}
    return payload


def find_by_client_id(
    session: Session, conv_id: int, author_id: int, client_id: str
) -> Message | None:
    return session.scalars(
        select(Message).where(
            Message.conversation_id == conv_id,
            Message.author_id == author_id,
            Message.client_id == client_id,
        )
    ).first()


ClientKey = tuple[int, int, str]  # (conversation, author, client_id): uq_messages_client_id


def client_key(conv: Conversation, actor: Actor, draft: Draft) -> ClientKey:
    return (conv.id, actor.user_id, draft.client_id)


def find_stored(session: Session, keys: Iterable[ClientKey]) -> dict[ClientKey, Message]:
    """The stored messages of several client keys (for a batch of sends): a Core lookup on
    uq_messages_client_id per key (a row-value IN list would scan the index on SQLite), and
    the rare replays loaded as messages."""
    connection = connection_of(session)
    stored: dict[ClientKey, Message] = {}
    for key in set(keys):
        conv_id, author_id, client_id = key
        row = _FIND_STORED.first(
            connection, {"conv_id": conv_id, "author_id": author_id, "client_id": client_id}
        )
        msg = session.get(Message, row[0]) if row is not None else None
        if msg is not None:
            stored[key] = msg
    return stored


_FIND_STORED = Statement(select(Message.id).where(
    Message.conversation_id == bindparam("conv_id"),
    Message.author_id == bindparam("author_id"),
    Message.client_id == bindparam("client_id"),
))


def post_message(
    session: Session,
    actor: Actor,
    conv: Conversation,
    draft: Draft,
    now: datetime,
    *,
    max_chars: int = 4000,
    screener: Screener | None = None,
    lookup_first: bool = True,
    stored: dict[ClientKey, Message] | None = None,
) -> tuple[Message, bool]:
    """Store a message; returns (message, created). The same client_id again is a replay.

    With `lookup_first=False` the client_id is not looked up before storing: a replay then
    fails the INSERT on uq_messages_client_id (IntegrityError, the transaction is lost) and
    the caller retries with `lookup_first=True`. A draft refused before the INSERT is still
    answered as a replay when its client_id was stored, as with the lookup first.

    `stored` is the caller's own lookup, for a batch of sends in one transaction (see
    `find_stored`): it answers for the client_id instead of a query, and the new message is
    added to it, so the same client_id twice in one batch is a replay too.
    """
    actor.require_scope("chat:write")
    key = client_key(conv, actor, draft)
    looked_up = stored is not None or lookup_first
    if stored is not None:
        previous = stored.get(key)
    elif lookup_first:
        previous = find_by_client_id(session, conv.id, actor.user_id, draft.client_id)
    else:
        previous = None
    if previous is not None:
        return _replay(previous, draft), False
    try:
        sender, role, payload, screening = _admit(
            session, actor, conv, draft, max_chars, screener
        )
    except (ChatError, NotFound):
        if not looked_up:
            previous = find_by_client_id(session, conv.id, actor.user_id, draft.client_id)
            if previous is not None:
                return _replay(previous, draft), False
        raise
    msg = _store(session, actor, conv, draft, now, sender, role, payload, screening)
    if stored is not None:
        stored[key] = msg
    if screening is not None and screening.verdict == "flag" and sender == "agent":
        # rule SCR-D1: delivered, and queued for platform review.
        from shopdesk.store.reviews import queue_flag

        queue_flag(session, msg, conv.shop_id, screening.findings, now)
    return msg, True


def _replay(previous: Message, draft: Draft) -> Message:
    if previous.text != draft.text or previous.kind != draft.kind:
        raise ChatError(
            "this client_id was already used for a different message", "client_id_reused"
        )
    return previous


def _admit(
    session: Session,
    actor: Actor,
    conv: Conversation,
    draft: Draft,
    max_chars: int,
    screener: Screener | None,
) -> tuple[str, str, dict[str, Any] | None, Screening | None]:
    """Who sends, the card payload and the screening of a draft that may be stored."""
    sender, role = sender_of(actor, conv)
    if sender == "agent" and not conv.buyer_has_written:
        # rule CHAT-3: a seller only answers buyers who contacted the shop.
        raise ChatError(
            "this buyer has not written to the shop; sellers may only answer buyers (CHAT-3)",
            code="chat3_no_buyer_contact",
            status=403,
        )
    payload = _validate_draft(session, actor, conv, draft, max_chars)
    screening = screener(session, draft, actor, conv) if screener else None
    if screening is not None and screening.verdict == "block":
        raise ChatError(
            "the message was not sent: it breaks the marketplace's messaging rules; edit it "
            "and try again",
            code="message_blocked",
            status=422,
            findings=screening.findings,
        )
    return sender, role, payload, screening


def _store(
    session: Session,
    actor: Actor,
    conv: Conversation,
    draft: Draft,
    now: datetime,
    sender: str,
    role: str,
    payload: dict[str, Any] | None,
    screening: Screening | None,
) -> Message:
    # The UPDATE locks the row and makes the sender's changes to the conversation; RETURNING
    # every column gives its current state (what other senders committed meanwhile) without a
    # second round-trip for a refresh, and without an ORM flush of the changes later.
    # Core statements on the session's connection: pending ORM changes are flushed first.
    connection = connection_of(session)
    if sender == "buyer":
        kind = "buyer"
    elif sender == "agent":
        kind = "agent" if role == "agent" else "shop"
    else:
        kind = "other"
    state = _NEXT_SEQ_BY_SENDER[kind].first(
        connection, {"conv_id": conv.id, "now": now, "author": actor.user_id}
    )
    if state is None:
        raise NotFound("conversation")  # deleted meanwhile
    held = conv.__dict__
    for key, value in zip(_CONV_KEYS, state, strict=True):
        if key not in held or held[key] != value:  # most columns did not change
            set_committed_value(conv, key, value)
    values: dict[str, Any] = {
        "conversation_id": conv.id,
        "seq": conv.last_seq,
        "at": now,
        "sender": sender,
        "sender_role": role,
        "author_id": actor.user_id,
        "kind": draft.kind,
        "text": draft.text,
        "attachment_id": draft.attachment_id,
        "payload": payload,
        "client_id": draft.client_id,
        "screening": (
            {"verdict": screening.verdict, "findings": screening.findings}
            if screening and screening.findings
            else None
        ),
    }
    # A prepared INSERT (the ORM's unit of work costs more than the statement), then the
    # row is attached to the session as a persistent Message (callers may still change it,
    # e.g. a card tap's payload) without another round-trip.
    inserted = _INSERT_MESSAGE.first(connection, values)
    assert inserted is not None  # INSERT … RETURNING gives its row
    values["id"] = inserted[0]
    msg = load_into(session, Message, values)
    return msg


def post_automatic(
    session: Session, conv: Conversation, text: str, now: datetime, *, sender: str = "bot",
    payload: dict[str, Any] | None = None,
) -> Message:
    """A bot or platform message (never a reply, EV-3)."""
    seq = session.execute(
        update(Conversation)
        .where(Conversation.id == conv.id)
        .values(last_seq=Conversation.last_seq + 1, last_message_at=now)
        .returning(Conversation.last_seq)
    ).scalar_one()
    msg = Message(
        conversation_id=conv.id, seq=seq, at=now, sender=sender, sender_role=sender,
        author_id=None, kind="text", text=text, payload=payload,
    )
    session.add(msg)
    session.flush()
    return msg


def list_messages(
    session: Session, conv: Conversation, after_seq: int = 0, limit: int = 200
) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conv.id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
    )


def audience(session: Session, conv: Conversation) -> list[int]:
    members = session.scalars(select(Membership.user_id).where(Membership.shop_id == conv.shop_id))
    return [conv.buyer_id, *members]


def record_event(
    session: Session, conv: Conversation, type_: str, now: datetime, actor: Actor | None,
    **data: Any,
) -> ConversationEvent:
    ev = ConversationEvent(
        conversation_id=conv.id, at=now, type=type_, data=data,
        actor_id=actor.user_id if actor else None,
    )
    session.add(ev)
    return ev


def close_conversation(session: Session, actor: Actor, conv: Conversation, now: datetime) -> None:
    sender, _role = sender_of(actor, conv)
    if sender == "buyer":
        raise ChatError("only the shop or the platform closes a session (SES-2)", "forbidden", 403)
    record_event(session, conv, "close", now, actor, by="seller" if sender == "agent" else
                 "platform")
    conv.assigned_agent_id = None
    conv.waiting_since = None
    audit(session, actor, "conversation.close", "conversation", conv.id, now=now,
          shop_id=conv.shop_id)


def rate(session: Session, actor: Actor, conv: Conversation, stars: int, comment: str,
         now: datetime) -> Rating:
    if not (actor.is_buyer and conv.buyer_id == actor.user_id):
        raise ChatError("only the buyer of this conversation rates it (CHAT-9)", "forbidden", 403)
    if not 1 <= stars <= 5:
        raise ChatError("stars must be 1 to 5 (CHAT-9)", "invalid_rating", 422)
    if conv.last_seq == 0:
        raise ChatError("there is no chat to rate yet", "nothing_to_rate", 409)
    r = Rating(conversation_id=conv.id, buyer_id=actor.user_id, at=now, stars=stars,
               comment=comment)
    session.add(r)
    audit(session, actor, "conversation.rate", "conversation", conv.id, now=now,
          shop_id=conv.shop_id, stars=stars)
    return r


def assign_to(session: Session, actor: Actor, conv: Conversation, agent_id: int | None,
              now: datetime, action: str) -> None:
    """take / release / transfer (agents) — within the conversation's shop only."""
    actor.require_shop_role(conv.shop_id)
    if agent_id is not None:
        member = session.scalars(
            select(Membership).where(
                Membership.shop_id == conv.shop_id, Membership.user_id == agent_id
            )
        ).first()
        if member is None:
            raise ChatError("that person is not on this shop's team", "invalid_agent", 422)
    if action == "release" and conv.assigned_agent_id != actor.user_id and (
        actor.role_in(conv.shop_id) == "agent"
    ):
        raise ChatError("agents release only conversations assigned to them", "forbidden", 403)
    conv.assigned_agent_id = agent_id
    conv.assigned_at = now if agent_id else None
    audit(session, actor, f"conversation.{action}", "conversation", conv.id, now=now,
          shop_id=conv.shop_id, agent=agent_id)


def message_json(msg: Message, author: User | None = None) -> dict[str, Any]:
    return {
        "id": msg.id,
        "conversation": msg.conversation_id,
        "seq": msg.seq,
        "at": msg.at.isoformat().replace("+00:00", "Z"),
        "sender": msg.sender,
        "sender_role": msg.sender_role,
        "author": msg.author_id,
        "author_name": author.display_name if author else None,
        "kind": msg.kind,
        "text": msg.text,
        "attachment": msg.attachment_id,
        "payload": msg.payload,
        "client_id": msg.client_id,
        "flagged": bool(msg.screening and msg.screening.get("verdict") == "flag"),
    }


def conversation_json(conv: Conversation) -> dict[str, Any]:
    return {
        "id": conv.id,
        "shop": conv.shop_id,
        "buyer": conv.buyer_id,
        "product": conv.product_id,
        "order": conv.order_id,
        "created_at": iso(conv.created_at),
        "last_seq": conv.last_seq,
        "last_message_at": iso(conv.last_message_at),
        "waiting_since": iso(conv.waiting_since),
        "assigned_agent": conv.assigned_agent_id,
        "handed_over": conv.handed_over,
        # rule KB-6: answered only automatically (card or chatbot); a person should look.
        "auto_only": auto_only(conv),
    }
