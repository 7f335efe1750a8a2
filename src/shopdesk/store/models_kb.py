"""Knowledge base tables (SPEC §3 KB-1…KB-7): entries with usage statistics, FAQ cards, and a
per-shop state row (seeded flag and a version counter that keys the matcher cache)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopdesk.store.models import Base


class KBState(Base):
    """One row per shop that has had a knowledge base.

    `seeded_at` records that the platform presets were copied in once (KB-3), so a shop that
    deleted every entry is never re-seeded. `version` grows with every change of the entries'
    content; matchers are cached per (shop, version).
    """

    __tablename__ = "kb_state"
    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    seeded_at: Mapped[datetime | None]


class KBEntry(Base):
    """One FAQ entry of a shop (KB-1, KB-2) with its usage counters (KB-4, KB-5, KB-7)."""

    __tablename__ = "kb_entries"
    __table_args__ = (UniqueConstraint("shop_id", "key", name="uq_kb_entries_shop_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120))  # the engine's entry id (CONTRACTS §4 `id`)
    category: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    similar: Mapped[list[Any]]
    answer: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    preset_id: Mapped[str | None] = mapped_column(String(120))
    shown: Mapped[int] = mapped_column(Integer, default=0)
    tapped: Mapped[int] = mapped_column(Integer, default=0)
    auto_answered: Mapped[int] = mapped_column(Integer, default=0)
    handed_over: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class KBCard(Base):
    """An FAQ card a shop shows to buyers who open the chat, in `position` order (KB-4)."""

    __tablename__ = "kb_cards"
    __table_args__ = (UniqueConstraint("shop_id", "entry_id", name="uq_kb_cards_shop_entry"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("kb_entries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
