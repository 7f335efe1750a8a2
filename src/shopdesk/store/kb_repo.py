"""Storage of the knowledge base (SPEC §3): lazy preset seeding, entries, cards, statistics.

Pure decisions live in `shopdesk.knowledge`; this module turns rows into its `Entry` values and
back. Tenant checks happen in the callers through `shopdesk.store.access`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from shopdesk.knowledge.model import Category, Entry, EntryStats
from shopdesk.knowledge.presets import seed_shop_kb
from shopdesk.store.models import Conversation, Message, Shop
from shopdesk.store.models_kb import KBCard, KBEntry, KBState

STAT_FIELDS = ("shown", "tapped", "auto_answered", "handed_over", "rated", "rating_sum")


def preset_languages(listing_language: str) -> tuple[str, ...]:
    """rule KB-3: en shops get the English presets; zh shops get Chinese and English."""
    lang = (listing_language or "en").split("-")[0].split("_")[0].lower()
    return ("zh", "en") if lang == "zh" else ("en",)


def shop_language(shop: Shop) -> str:
    return preset_languages(shop.listing_language)[0]


def ensure_kb(session: Session, shop: Shop, now: datetime) -> KBState:
    """The shop's KB state; on the first access ever, copy the platform presets in (KB-3).

    Seeding happens once per shop: a shop that later deletes every entry is not re-seeded.
    """
    state = session.get(KBState, shop.id)
    if state is not None:
        return state
    try:
        with session.begin_nested():
            state = KBState(shop_id=shop.id, version=1, seeded_at=now)
            session.add(state)
            session.flush()
            for entry in seed_shop_kb(preset_languages(shop.listing_language)):
                session.add(row_from_entry(shop.id, entry, now))
            session.flush()
    except IntegrityError:  # another request seeded it concurrently
        state = session.get(KBState, shop.id)
        if state is None:  # pragma: no cover - the other transaction rolled back
            raise
    return state


def bump_version(session: Session, shop_id: int) -> None:
    """The entries' content changed: cached matchers of this shop are stale."""
    session.execute(
        update(KBState)
        .where(KBState.shop_id == shop_id)
        .values(version=KBState.version + 1)
        .execution_options(synchronize_session=False)
    )
    state = session.get(KBState, shop_id)
    if state is not None:
        session.refresh(state)


def row_from_entry(shop_id: int, entry: Entry, now: datetime) -> KBEntry:
    return KBEntry(
        shop_id=shop_id,
        key=entry.id,
        category=entry.category,
        question=entry.question,
        similar=list(entry.similar),
        answer=entry.answer,
        lang=entry.lang,
        enabled=entry.enabled,
        preset_id=entry.preset_id,
        updated_at=now,
        **{name: getattr(entry.stats, name) for name in STAT_FIELDS},
    )


def apply_entry(row: KBEntry, entry: Entry, now: datetime) -> None:
    """Copy the content of `entry` (not its statistics) into `row`."""
    row.category = entry.category
    row.question = entry.question
    row.similar = list(entry.similar)
    row.answer = entry.answer
    row.lang = entry.lang
    row.enabled = entry.enabled
    row.preset_id = entry.preset_id
    row.updated_at = now


def stats_of(row: KBEntry) -> EntryStats:
    return EntryStats(**{name: getattr(row, name) or 0 for name in STAT_FIELDS})


def to_entry(row: KBEntry) -> Entry:
    return Entry(
        id=row.key,
        category=cast(Category, row.category),
        question=row.question,
        answer=row.answer,
        similar=tuple(row.similar or ()),
        lang=row.lang,
        enabled=row.enabled,
        preset_id=row.preset_id,
        stats=stats_of(row),
    )


def entry_rows(session: Session, shop_id: int) -> list[KBEntry]:
    return list(
        session.scalars(select(KBEntry).where(KBEntry.shop_id == shop_id).order_by(KBEntry.id))
    )


def entry_row(session: Session, shop_id: int, key: str) -> KBEntry | None:
    return session.scalars(
        select(KBEntry).where(KBEntry.shop_id == shop_id, KBEntry.key == key)
    ).first()


def bump_stats(session: Session, shop_id: int, key: str, **deltas: int) -> None:
    """Atomic counter increments (concurrent buyers and agents never lose a count)."""
    values = {name: getattr(KBEntry, name) + delta for name, delta in deltas.items() if delta}
    if not values:
        return
    session.execute(
        update(KBEntry)
        .where(KBEntry.shop_id == shop_id, KBEntry.key == key)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def bump_many(session: Session, shop_id: int, keys: Iterable[str], **deltas: int) -> None:
    for key in dict.fromkeys(keys):
        bump_stats(session, shop_id, key, **deltas)


def card_keys(session: Session, shop_id: int) -> list[str]:
    rows = session.execute(
        select(KBEntry.key)
        .join(KBCard, KBCard.entry_id == KBEntry.id)
        .where(KBCard.shop_id == shop_id)
        .order_by(KBCard.position)
    )
    return [key for (key,) in rows]


def set_cards(session: Session, shop_id: int, rows: Sequence[KBEntry]) -> None:
    session.query(KBCard).filter(KBCard.shop_id == shop_id).delete(synchronize_session=False)
    session.flush()
    for position, row in enumerate(rows):
        session.add(KBCard(shop_id=shop_id, entry_id=row.id, position=position))
    session.flush()


def entry_json(row: KBEntry) -> dict[str, Any]:
    return {
        "id": row.key,
        "category": row.category,
        "question": row.question,
        "similar": list(row.similar or ()),
        "answer": row.answer,
        "lang": row.lang,
        "enabled": row.enabled,
        "preset": row.preset_id,
        "stats": {name: getattr(row, name) for name in STAT_FIELDS},
        "updated_at": row.updated_at.isoformat().replace("+00:00", "Z"),
    }


# --- rule KB-6: conversations answered only automatically -----------------------------------


def auto_only_clause() -> ColumnElement[bool]:
    """Waiting for a human, not handed over, and an automatic (bot) answer since the buyer's
    first unanswered message: the card or chatbot answered, a person should still look."""
    bot_answer = exists().where(
        Message.conversation_id == Conversation.id,
        Message.sender == "bot",
        Message.at >= Conversation.waiting_since,
    )
    return and_(
        Conversation.waiting_since.is_not(None),
        Conversation.handed_over.is_(False),
        bot_answer,
    )


def auto_only(conv: Conversation) -> bool:
    """The KB-6 flag of one conversation (one cheap query only when it can be true)."""
    if conv.waiting_since is None or conv.handed_over:
        return False
    session = object_session(conv)
    if session is None:
        return False
    found = session.scalars(
        select(Message.id)
        .where(
            Message.conversation_id == conv.id,
            Message.sender == "bot",
            Message.at >= conv.waiting_since,
        )
        .limit(1)
    ).first()
    return found is not None
