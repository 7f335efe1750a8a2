"""The chatbot and FAQ cards on the live system (SPEC §3 KB-4, KB-6, KB-7; §13 EV-2…EV-4).

Decisions come from the pure engine (`shopdesk.knowledge`); this module applies them to a
conversation: automatic answers are stored as `bot` messages (never replies, EV-3), hand-overs
as `handoff` events with `Conversation.handed_over` set until the next human reply (after a
handoff automatic messages change nothing, EV-2, so the bot stays quiet), and the entries'
usage statistics are counted.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdesk.chat import service
from shopdesk.knowledge.chatbot import DEFAULT_OUT_OF_HOURS, decide
from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.semantic import Encoder
from shopdesk.knowledge.text import is_chinese
from shopdesk.store import kb_repo
from shopdesk.store.models import Conversation, Message, Rating, Shop
from shopdesk.store.prepared import held_or_get

_CACHE_LOCK = threading.Lock()


# --- matcher cache: one per (shop, KB version) ------------------------------------------------


def _encoder(app_state: Any) -> Encoder | None:
    settings = getattr(app_state, "settings", None)
    if settings is None or not getattr(settings, "chatbot_encoder", False):
        return None
    with _CACHE_LOCK:
        if not hasattr(app_state, "kb_encoder_model"):
            from shopdesk.knowledge.semantic import load_encoder

            app_state.kb_encoder_model = load_encoder()
        encoder: Encoder | None = app_state.kb_encoder_model
    return encoder


def matcher_for(app_state: Any, db: Session, shop: Shop, now: datetime) -> Matcher:
    """The shop's matcher, rebuilt only when its KB version changed (any process may bump it)."""
    state = kb_repo.ensure_kb(db, shop, now)
    with _CACHE_LOCK:
        cache: dict[int, tuple[int, Matcher]] = getattr(app_state, "kb_matchers", None) or {}
        app_state.kb_matchers = cache
        hit = cache.get(shop.id)
    if hit is not None and hit[0] == state.version:
        return hit[1]
    entries = [kb_repo.to_entry(r) for r in kb_repo.entry_rows(db, shop.id)]
    matcher = Matcher(entries, _encoder(app_state))
    with _CACHE_LOCK:
        cache[shop.id] = (state.version, matcher)
    return matcher


# --- the hook on the send path -------------------------------------------------------------


def message_language(text: str, shop: Shop) -> str:
    if is_chinese(text):
        return "zh"
    return "en" if text.strip() else kb_repo.shop_language(shop)


def out_of_hours_notice(shop: Shop, next_opening: datetime | None, lang: str) -> str:
    """What the bot says outside business hours: when the shop will answer (CHAT-4)."""
    if next_opening is None:
        return DEFAULT_OUT_OF_HOURS.get(lang, DEFAULT_OUT_OF_HOURS["en"])
    local = next_opening.astimezone(ZoneInfo(shop.timezone))
    if lang == "zh":
        when = f"{local.month}月{local.day}日 {local:%H:%M}"
        return f"感谢您的留言！现在是非工作时间，客服将于{when}（店铺当地时间）上班后回复您。"
    when = f"{local:%A %d %B, %H:%M}"
    return (
        f"Thanks for your message! We're outside our business hours right now; our team will "
        f"reply from {when} ({shop.timezone} time)."
    )


def _last_auto_entry(db: Session, conv: Conversation, since: datetime | None) -> str | None:
    """The KB entry of the latest automatic answer in the current unanswered stretch."""
    q = select(Message).where(Message.conversation_id == conv.id, Message.sender == "bot")
    if since is not None:
        q = q.where(Message.at >= since)
    for msg in db.scalars(q.order_by(Message.seq.desc()).limit(20)):
        kb = (msg.payload or {}).get("kb") or {}
        if kb.get("entry"):
            return str(kb["entry"])
    return None


def hand_over(
    db: Session, conv: Conversation, now: datetime, reason: str, *, since: datetime | None
) -> None:
    """Record a `handoff` event (EV-2, EV-4) and keep the bot quiet until a human replies."""
    service.record_event(db, conv, "handoff", now, None, reason=reason)
    conv.handed_over = True
    previous = _last_auto_entry(db, conv, since)
    if previous is not None:  # the automatic answer did not settle it
        kb_repo.bump_stats(db, conv.shop_id, previous, handed_over=1)


def after_message(
    db: Session, conv: Conversation, msg: Message, now: datetime, app: Any
) -> list[dict[str, Any]]:
    """Run after a message is stored; returns the JSON of new automatic messages to publish.

    A human reply ends a hand-over; a buyer's free-text message goes to the chatbot (KB-7)
    when the shop's chatbot is on and the conversation is not waiting for a person.
    """
    if msg.sender == "agent":
        conv.handed_over = False
        return []
    if msg.sender != "buyer" or msg.kind not in ("text", "emoji", "sticker") or conv.handed_over:
        return []
    shop = held_or_get(db, Shop, conv.shop_id)
    if shop is None or not shop.chatbot_enabled:
        return []
    from shopdesk.web.api.shops import shop_hours

    hours = shop_hours(db, shop)
    # A shop that has not set its hours is treated as always open (no notice to give).
    within = hours.is_open(now) if hours.windows else True
    lang = message_language(msg.text, shop)
    notice = None if within else out_of_hours_notice(shop, hours.next_opening(now), lang)
    since = conv.waiting_since
    decision = decide(
        matcher_for(app.state, db, shop, now),
        msg.text,
        chatbot_enabled=True,
        within_hours=within,
        out_of_hours_notice=notice,
        lang=lang,
    )
    out: list[Message] = []
    if decision.action == "answer" and decision.entry and decision.text:
        out.append(
            service.post_automatic(
                db,
                conv,
                decision.text,
                now,
                sender="bot",
                payload={
                    "kb": {
                        "entry": decision.entry,
                        "via": "chatbot",
                        "confidence": round(decision.confidence, 4),
                    }
                },
            )
        )
        kb_repo.bump_stats(db, shop.id, decision.entry, auto_answered=1)
    if decision.action == "out_of_hours" and decision.text:
        out.append(
            service.post_automatic(
                db,
                conv,
                decision.text,
                now,
                sender="bot",
                payload={"kb": {"via": "out_of_hours"}},
            )
        )
    if decision.handover:
        hand_over(db, conv, now, decision.reason, since=since)
    return [service.message_json(m) for m in out]


def after_rating(db: Session, conv: Conversation, rating: Rating) -> None:
    """A buyer rated the chat: credit the entry of the latest automatic answer, unless a
    person has replied since (then the rating is about the person's answer)."""
    last_human = db.scalar(
        select(Message.at)
        .where(Message.conversation_id == conv.id, Message.sender == "agent")
        .order_by(Message.seq.desc())
        .limit(1)
    )
    entry = _last_auto_entry(db, conv, last_human)
    if entry is not None:
        kb_repo.bump_stats(db, conv.shop_id, entry, rated=1, rating_sum=rating.stars)
