"""The relational model. Every state-changing action also lands in `audit_log` (TEAM-4)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shopdesk.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Region(Base):
    """A marketplace region (e.g. US, UK, CN cross-border) with its policy profile."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    policy: Mapped[str] = mapped_column(String(40), default="us")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    # buyer | seller | staff — seller roles per shop live in `memberships`.
    kind: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Shop(Base):
    __tablename__ = "shops"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    listing_language: Mapped[str] = mapped_column(String(16), default="en")
    greeting: Mapped[str] = mapped_column(Text, default="")
    chatbot_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    vacation_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    region: Mapped[Region] = relationship()


class Membership(Base):
    """A seller's role in a shop: owner (main account), admin or agent (TEAM-1)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "shop_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None]
    last_assigned_at: Mapped[datetime | None]
    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(Base):
    """Per-user bearer tokens with scopes (TEAM-4); only a hash of the secret is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class BusinessHours(Base):
    """One opening window of a weekday (0 = Monday), shop-local (CHAT-4)."""

    __tablename__ = "business_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class ClosedDate(Base):
    __tablename__ = "closed_dates"
    __table_args__ = (UniqueConstraint("shop_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class VacationPeriod(Base):
    """Vacation mode interval (CHAT-6); `end` is null while it is still on."""

    __tablename__ = "vacation_periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime | None]


class ChatbotSwitch(Base):
    __tablename__ = "chatbot_switches"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    enabled: Mapped[bool] = mapped_column(Boolean)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # Cancellation / return / refund terms shown on the product page (AS-5).
    terms: Mapped[dict[str, Any]]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    total_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    placed_at: Mapped[datetime]
    # The terms as shown at order time; later edits of the product never change them (AS-5).
    terms_snapshot: Mapped[dict[str, Any]]
    # When the parcel left and arrived; the after-sales time limits count from them (AS-6).
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("buyer_id", "shop_id", name="uq_conversations_buyer_shop"),
        Index("ix_conversations_shop_waiting", "shop_id", "assigned_agent_id", "waiting_since"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_message_at: Mapped[datetime | None]
    # First buyer message not yet followed by a human reply; drives queues and deadlines.
    waiting_since: Mapped[datetime | None]
    buyer_has_written: Mapped[bool] = mapped_column(Boolean, default=False)
    handed_over: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None]


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint(
            "conversation_id", "author_id", "client_id", name="uq_messages_client_id"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    # buyer | agent (any human of the shop) | bot | platform — CONTRACTS §1 `sender`.
    sender: Mapped[str] = mapped_column(String(16))
    sender_role: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    client_id: Mapped[str | None] = mapped_column(String(64))
    screening: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class ConversationEvent(Base):
    """Non-message events the metrics engine reads: handoff, close, exclusion (CONTRACTS §1)."""

    __tablename__ = "conversation_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(24))
    data: Mapped[dict[str, Any]]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Rating(Base):
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")


class OfflineTicket(Base):
    """A buyer's ticket when no agent is online (CHAT-5)."""

    __tablename__ = "offline_tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only record of every state-changing action: who, what, when, which token."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[dict[str, Any]]


class Timer(Base):
    """A durable timer: fires once at or after `due_at`, even across restarts and processes.

    `key` makes scheduling idempotent (the same deadline armed twice is one timer).
    """

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "fired_at", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    fired_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Evaluation(Base):
    """One shop's scheduled evaluation (EVAL-1/2, EV-8), stored with the policy version used."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("shop_id", "policy", "scheduled_for", name="uq_evaluations_schedule"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    policy: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[datetime]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    computed_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(24))
    response_rate: Mapped[float | None]
    satisfaction_rate: Mapped[float | None]
    # The whole CONTRACTS §2 shop object, including sessions_detail (MET-D2).
    result: Mapped[dict[str, Any]]


class LedgerEntry(Base):
    """Append-only penalty ledger (PEN-D1): a reversal is a new entry, never a deletion."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    # warning | violation | escalated_violation | screening_violation | reversal
    kind: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text)
    sanctions: Mapped[list[Any]]
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Appeal(Base):
    """A seller's appeal of a ledger entry (APL-1); staff grant or deny it (APL-2)."""

    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    appellant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]]
    created_at: Mapped[datetime]
    # pending | granted (the entry is reversed) | denied (the entry stands)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
from shopdesk.store import models_casework as _models_casework  # noqa: E402,F401
from shopdesk.store import models_kb as _models_kb  # noqa: E402,F401
from shopdesk.store import models_review as _models_review  # noqa: E402,F401
