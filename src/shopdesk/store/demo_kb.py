"""The demo's knowledge bases (SPEC §3): presets, FAQ cards and greetings for the demo shops.

Called by the demo seeder after the shops exist. Idempotent: a shop whose KB was already
seeded keeps its entries and cards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdesk.knowledge.chatbot import DEFAULT_GREETING
from shopdesk.store import kb_repo
from shopdesk.store.models import Shop
from shopdesk.store.models_kb import KBState

# The FAQ cards a demo shop shows (KB-4), in order; `{lang}` is the shop's language.
DEMO_CARDS = (
    "{lang}.logistics.tracking",
    "{lang}.logistics.ship_time",
    "{lang}.after_sale.return",
    "{lang}.pre_sale.in_stock",
)


def seed_kb(session: Session, now: datetime) -> int:
    """Seed presets, cards and a greeting into every demo shop without a KB; returns how many
    shops were seeded."""
    seeded = 0
    for shop in session.scalars(select(Shop).where(Shop.is_demo).order_by(Shop.id)):
        if session.get(KBState, shop.id) is not None:
            continue
        kb_repo.ensure_kb(session, shop, now)
        lang = kb_repo.shop_language(shop)
        rows = [
            row
            for key in DEMO_CARDS
            if (row := kb_repo.entry_row(session, shop.id, key.format(lang=lang))) is not None
        ]
        kb_repo.set_cards(session, shop.id, rows)
        if not shop.greeting.strip():
            shop.greeting = DEFAULT_GREETING.get(lang, DEFAULT_GREETING["en"])
        seeded += 1
    session.flush()
    return seeded
