"""The platform's review queue: flagged seller messages and sellers' reports of buyers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopdesk.store.models import Base


class Review(Base):
    """One item for platform staff (SCR-D1 flag, SCR-12 report).

    kind `flagged_message`: a delivered seller message screening flagged; approving it
    confirms the violation (PEN-4). kind `buyer_report`: a seller reports a buyer message as
    abusive, threatening, extortionate or advertising; approving it verifies the report and the
    session leaves the evaluation (SCR-12).
    """

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    findings: Mapped[list[Any]]
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[Any]]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
