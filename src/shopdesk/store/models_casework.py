"""Casework storage (issue 6): one generic table of cases and one of their timeline events,
and the force-majeure adjusted regions the platform declares (FM-1).

A case's full state is the engine's own data (`codec.to_data(case)`) in `data`; the columns
beside it are copies for filtering (tenant isolation, lists) and optimistic locking (`version`
is the engine's `case.version`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopdesk.store.models import Base


class Case(Base):
    """An after-sales request, dispute, complaint, force-majeure application or ticket."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_process_state", "process", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # aftersales | disputes | complaints | force_majeure | tickets
    process: Mapped[str] = mapped_column(String(24))
    shop_id: Mapped[int | None] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), index=True
    )
    # The buyer of the case (a buyer complainant or ticket requester).
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who opened it (a seller requester or complainant, staff recording a complaint, …).
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CaseEvent(Base):
    """One timeline entry: who did what, when (append-only)."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(16), default="")
    data: Mapped[dict[str, Any]]


class AdjustedRegion(Base):
    """A force-majeure adjusted region (FM-1): shops of its region codes get their fulfilment
    SLA extended by `extension_days` for orders placed or due to ship in [starts_at, ends_at).

    `ends_at` is the current end: a renewal moves it later, an early end moves it to that
    instant (`ended_at`). `history` lists every declaration, renewal and end (the audit log
    has them too, with the token used).
    """

    __tablename__ = "adjusted_regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Marketplace region codes (`regions.code`) or their ISO country codes (`regions.country`).
    region_codes: Mapped[list[Any]]
    reason: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    extension_days: Mapped[int] = mapped_column(Integer)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    history: Mapped[list[Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
