"""Typed events of the evaluation (CONTRACTS §1). The live server feeds the same types.

All instants are timezone-aware UTC ``datetime`` values (rule EV-1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

SENDERS = ("buyer", "agent", "bot", "platform")


@dataclass(frozen=True, slots=True)
class ShopDecl:
    shop: str
    timezone: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ChatbotSwitch:
    shop: str
    at: datetime
    enabled: bool


@dataclass(frozen=True, slots=True)
class Vacation:
    shop: str
    start: datetime
    end: datetime | None  # None: still on


@dataclass(frozen=True, slots=True)
class Message:
    conversation: str
    shop: str
    at: datetime
    sender: str  # buyer | agent | bot | platform
    id: str | None = None
    kind: str = "text"
    text: str = ""
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Handoff:
    conversation: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Close:
    conversation: str
    at: datetime
    by: str  # seller | platform


@dataclass(frozen=True, slots=True)
class Rating:
    conversation: str
    at: datetime
    stars: int


@dataclass(frozen=True, slots=True)
class Exclusion:
    conversation: str
    at: datetime
    reason: str  # verified_report | platform_handled


ConversationEvent = Message | Handoff | Close


@dataclass(slots=True)
class ShopLog:
    """Everything known about one shop, each list in time order (ties keep input order)."""

    shop: str
    timezone: str = "UTC"
    chatbot: list[ChatbotSwitch] = field(default_factory=list)
    vacations: list[Vacation] = field(default_factory=list)
    conversations: dict[str, list[ConversationEvent]] = field(default_factory=dict)
    ratings: list[Rating] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


Event = ShopDecl | ChatbotSwitch | Vacation | Message | Handoff | Close | Rating | Exclusion


def event_time(ev: Event) -> datetime | None:
    if isinstance(ev, ShopDecl):
        return None
    if isinstance(ev, Vacation):
        return ev.start
    return ev.at


def group_by_shop(events: list[Event]) -> dict[str, ShopLog]:
    """Sort by time (stable: ties keep input order) and split per shop and conversation.

    Conversation-only events (handoff, close, rating, exclusion) belong to the shop of the
    conversation's messages; those of conversations with no message are dropped.
    """
    shops: dict[str, ShopLog] = {}
    conv_shop: dict[str, str] = {}
    for ev in events:
        if isinstance(ev, ShopDecl):
            shops.setdefault(ev.shop, ShopLog(ev.shop)).timezone = ev.timezone
        elif isinstance(ev, ChatbotSwitch | Vacation):
            shops.setdefault(ev.shop, ShopLog(ev.shop))
        elif isinstance(ev, Message):
            shops.setdefault(ev.shop, ShopLog(ev.shop))
            conv_shop.setdefault(ev.conversation, ev.shop)
    timed = sorted(
        (ev for ev in events if not isinstance(ev, ShopDecl)),
        key=lambda e: event_time(e),  # type: ignore[arg-type,return-value]
    )
    for ev in timed:
        if isinstance(ev, ChatbotSwitch):
            shops[ev.shop].chatbot.append(ev)
        elif isinstance(ev, Vacation):
            shops[ev.shop].vacations.append(ev)
        else:
            assert not isinstance(ev, ShopDecl)
            shop = conv_shop.get(ev.conversation)
            if shop is None:
                continue
            log = shops[shop]
            if isinstance(ev, Rating):
                log.ratings.append(ev)
            elif isinstance(ev, Exclusion):
                log.exclusions.append(ev)
            else:
                log.conversations.setdefault(ev.conversation, []).append(ev)
    return shops
