"""Casework storage (issue 6): one generic table of cases and one of their timeline events.

A case's full state is the engine's own data (`codec.to_data(case)`) in `data`; the columns
beside it are copies for filtering (tenant isolation, lists) and optimistic locking (`version`
is the engine's `case.version`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
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
