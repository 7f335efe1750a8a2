"""Results of an evaluation and their JSON form (CONTRACTS §2, Decision MET-D2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

STATUSES = (
    "answered_in_time", "late", "unanswered", "pending", "bot_only", "vacation",
    "platform_handled", "verified_report", "outside_hours", "outside_window",
)


@dataclass(frozen=True, slots=True)
class SessionResult:
    conversation: str
    start: datetime
    deadline: datetime
    status: str
    first_reply_at: datetime | None
    first_reply_by: str | None


@dataclass(frozen=True, slots=True)
class ShopEvaluation:
    shop: str
    timezone: str
    window_start: datetime
    window_end: datetime
    evaluated_at: datetime
    buyer_messages: int
    sessions: int
    counted: int
    pending: int
    answered_in_time: int
    response_rate: float | None
    ratings: int
    satisfaction_rate: float | None
    first_response_median_s: float | None
    first_response_mean_s: float | None
    outcome: str
    sessions_detail: tuple[SessionResult, ...] = field(default=())


def iso(instant: datetime | None, tz: ZoneInfo | None = None) -> str | None:
    """ISO 8601 in the shop's local time with its offset (UTC shown as Z)."""
    if instant is None:
        return None
    loc = instant.astimezone(tz or UTC)
    text = loc.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _rate(x: float | None) -> float | None:
    return None if x is None else round(x, 9)


def shop_to_json(ev: ShopEvaluation, explain: bool = False) -> dict[str, Any]:
    tz = ZoneInfo(ev.timezone)
    out: dict[str, Any] = {
        "shop": ev.shop,
        "timezone": ev.timezone,
        "window": {
            "start": iso(ev.window_start, tz),
            "end": iso(ev.window_end, tz),
            "evaluated_at": iso(ev.evaluated_at, tz),
        },
        "buyer_messages": ev.buyer_messages,
        "sessions": ev.sessions,
        "counted": ev.counted,
        "pending": ev.pending,
        "answered_in_time": ev.answered_in_time,
        "response_rate": _rate(ev.response_rate),
        "ratings": ev.ratings,
        "satisfaction_rate": _rate(ev.satisfaction_rate),
        "first_response_median_s": ev.first_response_median_s,
        "first_response_mean_s": ev.first_response_mean_s,
        "outcome": ev.outcome,
    }
    if explain:
        out["sessions_detail"] = [
            {
                "conversation": s.conversation,
                "start": iso(s.start, tz),
                "deadline": iso(s.deadline, tz),
                "status": s.status,
                "first_reply_at": iso(s.first_reply_at, tz),
                "first_reply_by": s.first_reply_by,
            }
            for s in ev.sessions_detail
        ]
    return out


def report_to_json(
    policy: str, at: datetime, shops: list[ShopEvaluation], explain: bool = False
) -> dict[str, Any]:
    return {
        "policy": policy,
        "at": iso(at),
        "shops": [shop_to_json(s, explain) for s in shops],
    }
