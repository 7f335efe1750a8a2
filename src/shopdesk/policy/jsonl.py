"""Reader of the event log (CONTRACTS §1): strict, names the bad line, warns on unknowns."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shopdesk.policy.events import (
    SENDERS,
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

_FIELDS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, optional)
    "shop": ({"shop", "timezone"}, {"name"}),
    "chatbot": ({"shop", "at", "enabled"}, set()),
    "vacation": ({"shop", "start", "end"}, set()),
    "message": ({"conversation", "shop", "at", "sender"}, {"id", "kind", "text", "author"}),
    "handoff": ({"conversation", "at"}, set()),
    "close": ({"conversation", "at", "by"}, set()),
    "rating": ({"conversation", "at", "stars"}, set()),
    "exclusion": ({"conversation", "at", "reason"}, set()),
}


class EventLogError(ValueError):
    """A malformed line; ``line`` is 1-based. Nothing is evaluated."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass
class ReadResult:
    events: list[Event]
    warnings: list[str] = field(default_factory=list)


def parse_instant(value: Any, name: str = "at") -> datetime:
    """ISO 8601 with an offset or ``Z`` -> aware UTC datetime (rule EV-1)."""
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be an ISO 8601 string")
    try:
        dt = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise ValueError(f"field {name!r}: not an ISO 8601 time: {value!r}") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"field {name!r}: time {value!r} has no offset (add Z or +hh:mm)")
    return dt.astimezone(UTC)


def _str(obj: dict[str, Any], key: str) -> str:
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, str | int) or v == "":
        raise ValueError(f"field {key!r} must be a non-empty string")
    return str(v)


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise ValueError(f"field {key!r} must be a string")
    return str(v)


def _build(kind: str, obj: dict[str, Any], conv_shop: dict[str, str]) -> Event:
    if kind == "shop":
        tz = obj["timezone"]
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"field 'timezone': unknown IANA time zone {tz!r}") from None
        return ShopDecl(_str(obj, "shop"), tz, _opt_str(obj, "name"))
    if kind == "chatbot":
        if not isinstance(obj["enabled"], bool):
            raise ValueError("field 'enabled' must be true or false")
        return ChatbotSwitch(_str(obj, "shop"), parse_instant(obj["at"]), obj["enabled"])
    if kind == "vacation":
        start = parse_instant(obj["start"], "start")
        end = None if obj["end"] is None else parse_instant(obj["end"], "end")
        if end is not None and end < start:
            raise ValueError("field 'end' is before 'start'")
        return Vacation(_str(obj, "shop"), start, end)
    if kind == "message":
        sender = obj["sender"]
        if sender not in SENDERS:
            raise ValueError(f"field 'sender' must be one of {', '.join(SENDERS)}")
        conv, shop = _str(obj, "conversation"), _str(obj, "shop")
        known = conv_shop.setdefault(conv, shop)
        if known != shop:
            raise ValueError(f"conversation {conv!r} belongs to shop {known!r}, not {shop!r}")
        text = obj.get("text")
        if text is not None and not isinstance(text, str):
            raise ValueError("field 'text' must be a string")
        return Message(
            conv, shop, parse_instant(obj["at"]), sender, _opt_str(obj, "id"),
            _opt_str(obj, "kind") or "text", text or "", _opt_str(obj, "author"),
        )
    conv = _str(obj, "conversation")
    at = parse_instant(obj["at"])
    if kind == "handoff":
        return Handoff(conv, at)
    if kind == "close":
        if obj["by"] not in ("seller", "platform"):
            raise ValueError("field 'by' must be 'seller' or 'platform'")
        return Close(conv, at, obj["by"])
    if kind == "rating":
        stars = obj["stars"]
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise ValueError("field 'stars' must be an integer 1..5")
        return Rating(conv, at, stars)
    if obj["reason"] not in ("verified_report", "platform_handled"):
        raise ValueError("field 'reason' must be 'verified_report' or 'platform_handled'")
    return Exclusion(conv, at, obj["reason"])


def read_events(lines: Iterable[str]) -> ReadResult:
    """Parse JSON Lines; raise EventLogError naming the first bad line (rule: CONTRACTS §1)."""
    events: list[Event] = []
    unknown_types: dict[str, int] = {}
    unknown_fields: dict[str, set[str]] = {}
    conv_shop: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EventLogError(number, f"not valid JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise EventLogError(number, "expected a JSON object")
        kind = obj.get("type")
        if not isinstance(kind, str):
            raise EventLogError(number, "missing field 'type'")
        if kind not in _FIELDS:
            unknown_types.setdefault(kind, number)
            continue
        required, optional = _FIELDS[kind]
        missing = sorted(required - obj.keys())
        if missing:
            raise EventLogError(number, f"{kind}: missing field {missing[0]!r}")
        extra = set(obj) - required - optional - {"type"}
        if extra:
            unknown_fields.setdefault(kind, set()).update(extra)
        try:
            events.append(_build(kind, obj, conv_shop))
        except (ValueError, KeyError) as exc:
            raise EventLogError(number, f"{kind}: {exc}") from None
    warnings = [
        f"warning: ignoring events of unknown type {t!r} (first on line {n})"
        for t, n in unknown_types.items()
    ]
    warnings += [
        f"warning: ignoring unknown fields of {t!r} events: {', '.join(sorted(f))}"
        for t, f in unknown_fields.items()
    ]
    return ReadResult(events, warnings)
