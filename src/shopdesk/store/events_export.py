"""The live system's history as a CONTRACTS §1 event log, so `shopdesk evaluate` on the export
gives the figures the server computes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shopdesk.store.models import (
    ChatbotSwitch,
    Conversation,
    ConversationEvent,
    Message,
    Rating,
    Shop,
    User,
    VacationPeriod,
)
from shopdesk.store.types import iso as _iso


def _window(q: Select[Any], column: Any, since: datetime | None, until: datetime | None
            ) -> Select[Any]:
    if since is not None:
        q = q.where(column >= since)
    if until is not None:
        q = q.where(column <= until)
    return q


def export_events(
    session: Session,
    *,
    shop_ids: list[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield events in time order per kind (the reader sorts by `at`; CONTRACTS §1)."""
    shops_q = select(Shop).order_by(Shop.id)
    if shop_ids:
        shops_q = shops_q.where(Shop.id.in_(shop_ids))
    shops = list(session.scalars(shops_q))
    ids = [s.id for s in shops]
    for s in shops:
        yield {"type": "shop", "shop": str(s.id), "timezone": s.timezone, "name": s.name}
    # Switches before the window still decide the state inside it, so they are never cut.
    for sw in session.scalars(
        select(ChatbotSwitch).where(ChatbotSwitch.shop_id.in_(ids)).order_by(ChatbotSwitch.at)
    ):
        yield {"type": "chatbot", "shop": str(sw.shop_id), "at": _iso(sw.at),
               "enabled": sw.enabled}
    for vp in session.scalars(
        select(VacationPeriod).where(VacationPeriod.shop_id.in_(ids))
        .order_by(VacationPeriod.start)
    ):
        yield {"type": "vacation", "shop": str(vp.shop_id), "start": _iso(vp.start),
               "end": _iso(vp.end)}
    conv_shop = dict(
        session.execute(select(Conversation.id, Conversation.shop_id).where(
            Conversation.shop_id.in_(ids)))
        .all()
    )
    authors = dict(session.execute(select(User.id, User.username)).all())
    msgs = _window(
        select(Message).where(Message.conversation_id.in_(list(conv_shop)))
        .order_by(Message.at, Message.conversation_id, Message.seq),
        Message.at, since, until,
    )
    for m in session.scalars(msgs.execution_options(yield_per=5000)):
        event: dict[str, Any] = {
            "type": "message", "conversation": str(m.conversation_id),
            "shop": str(conv_shop[m.conversation_id]), "at": _iso(m.at), "sender": m.sender,
            "id": str(m.id), "kind": m.kind, "text": m.text,
        }
        if m.author_id is not None:
            event["author"] = authors.get(m.author_id, str(m.author_id))
        yield event
    evs = _window(
        select(ConversationEvent).where(ConversationEvent.conversation_id.in_(list(conv_shop)))
        .order_by(ConversationEvent.at, ConversationEvent.id),
        ConversationEvent.at, since, until,
    )
    for ev in session.scalars(evs):
        out: dict[str, Any] = {"type": ev.type, "conversation": str(ev.conversation_id),
                               "at": _iso(ev.at)}
        if ev.type == "close":
            out["by"] = ev.data.get("by", "seller")
        elif ev.type == "exclusion":
            out["reason"] = ev.data.get("reason", "verified_report")
        yield out
    ratings = _window(
        select(Rating).where(Rating.conversation_id.in_(list(conv_shop))).order_by(Rating.at),
        Rating.at, since, until,
    )
    for r in session.scalars(ratings):
        yield {"type": "rating", "conversation": str(r.conversation_id), "at": _iso(r.at),
               "stars": r.stars}
