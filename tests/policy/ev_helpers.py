"""Small builders for event logs used by the policy tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopdesk.policy.evaluate_reference import evaluate_log
from shopdesk.policy.events import (
    ChatbotSwitch,
    Close,
    Event,
    Exclusion,
    Handoff,
    Message,
    Rating,
    ShopDecl,
    Vacation,
)
from shopdesk.policy.profiles import load_profile
from shopdesk.policy.report import ShopEvaluation

US = load_profile("us")
XB = load_profile("cross-border")


def t(s: str) -> datetime:
    """'2026-11-17 10:00' in UTC."""
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def lt(s: str, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(s).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


H = timedelta(hours=1)
M = timedelta(minutes=1)


def buyer(at: datetime, conv: str = "c1", shop: str = "s1", text: str = "where is it?") -> Message:
    return Message(conv, shop, at, "buyer", text=text)


def agent(at: datetime, conv: str = "c1", shop: str = "s1", text: str = "It ships today",
          author: str = "a1") -> Message:
    return Message(conv, shop, at, "agent", text=text, author=author)


def bot(at: datetime, conv: str = "c1", shop: str = "s1", text: str = "auto answer") -> Message:
    return Message(conv, shop, at, "bot", text=text)


def shop(tz: str = "UTC", sid: str = "s1") -> ShopDecl:
    return ShopDecl(sid, tz)


def evaluate(events: list[Event], at: datetime, profile=US) -> ShopEvaluation:  # type: ignore[no-untyped-def]
    res = evaluate_log(events, profile, at, shop="s1")
    return res[0]


def statuses(ev: ShopEvaluation) -> list[str]:
    return [s.status for s in ev.sessions_detail]


__all__ = [
    "US",
    "XB",
    "ChatbotSwitch",
    "Close",
    "Exclusion",
    "H",
    "Handoff",
    "M",
    "Rating",
    "Vacation",
    "agent",
    "bot",
    "buyer",
    "evaluate",
    "lt",
    "shop",
    "statuses",
    "t",
]
