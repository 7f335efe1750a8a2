"""Policy profiles as data (SPEC §5, §6, §13; Decision SES-D1).

Every duration, threshold, count, window and schedule lives in a TOML file. The shipped
profiles are ``us`` and ``cross-border`` (package data under ``profiles/``); a marketplace
selects its own file by path. Loading validates every key and names the bad one.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DURATION = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")


class ProfileError(ValueError):
    """A profile file is missing, unreadable or has a bad key (named in the message)."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    seller_silence: timedelta  # rule EV-2
    buyer_silence: timedelta  # rule EV-2
    bot_grace: timedelta  # rule EV-2
    reply_window: timedelta  # rule EV-5
    weekend_rule: bool  # rule MET-4 / EV-5
    weekend_deadline_weekday: int  # 0 = Monday
    weekend_deadline_time: time
    hours_from_s: int  # rule EV-7 / MET-8: seconds of local day, inclusive
    hours_until_s: int  # exclusive
    schedule_kind: str  # "weekly" | "monthly"  (rule EV-8)
    schedule_weekday: int
    schedule_time: time
    schedule_days: tuple[int, ...]
    gate_min_buyer_messages: int  # rule EV-9
    gate_below: str  # "no_penalty" (us, PEN-1) | "not_evaluated" (cross-border, MET-9)
    violation_below: float  # rule EV-11
    warning_below: float
    satisfaction_days: int  # rule EV-10
    satisfaction_min_stars: int
    satisfaction_target: float


_SCHEMA: dict[str, dict[str, str]] = {
    "sessions": {"seller_silence": "duration", "buyer_silence": "duration",
                 "bot_grace": "duration"},
    "deadline": {"reply_window": "duration", "weekend_rule": "bool",
                 "weekend_deadline_weekday": "weekday", "weekend_deadline_time": "time"},
    "counting": {"hours_from": "daytime", "hours_until": "daytime"},
    "schedule": {"kind": "kind", "weekday": "weekday", "time": "time", "days": "days"},
    "gate": {"min_buyer_messages": "count", "below": "below"},
    "outcome": {"violation_below": "rate", "warning_below": "rate"},
    "satisfaction": {"days": "count", "min_stars": "stars", "target": "rate"},
}


def _parse(kind: str, key: str, value: Any) -> Any:
    def bad(why: str) -> ProfileError:
        return ProfileError(f"profile key {key!r}: {why} (got {value!r})")

    if kind == "duration":
        m = _DURATION.match(value) if isinstance(value, str) and value.strip() else None
        if not m:
            raise bad('expected a duration such as "72h", "10m" or "1d 6h"')
        d, h, mi, s = (int(g or 0) for g in m.groups())
        out = timedelta(days=d, hours=h, minutes=mi, seconds=s)
        if out <= timedelta(0):
            raise bad("duration must be positive")
        return out
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("expected true or false")
        return value
    if kind == "weekday":
        if not isinstance(value, str) or value.lower() not in WEEKDAYS:
            raise bad("expected a weekday name such as \"monday\"")
        return WEEKDAYS.index(value.lower())
    if kind in ("time", "daytime"):
        if not isinstance(value, str):
            raise bad('expected a time "HH:MM" or "HH:MM:SS"')
        parts = value.split(":")
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            raise bad('expected a time "HH:MM" or "HH:MM:SS"') from None
        if len(nums) not in (2, 3):
            raise bad('expected a time "HH:MM" or "HH:MM:SS"')
        hh, mm, ss = nums[0], nums[1], nums[2] if len(nums) == 3 else 0
        secs = hh * 3600 + mm * 60 + ss
        if kind == "daytime":
            if not (0 <= mm < 60 and 0 <= ss < 60 and 0 <= secs <= 86400):
                raise bad("time of day out of range 00:00:00..24:00:00")
            return secs
        if not (0 <= hh < 24 and 0 <= mm < 60 and 0 <= ss < 60):
            raise bad("time of day out of range")
        return time(hh, mm, ss)
    if kind == "kind":
        if value not in ("weekly", "monthly"):
            raise bad('expected "weekly" or "monthly"')
        return value
    if kind == "days":
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 28 for v in value
        ):
            raise bad("expected a list of days of the month 1..28")
        return tuple(sorted(set(value)))
    if kind == "count":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad("expected a non-negative integer")
        return value
    if kind == "stars":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise bad("expected an integer 1..5")
        return value
    if kind == "rate":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise bad("expected a number between 0 and 1")
        return float(value)
    if kind == "below":
        if value not in ("no_penalty", "not_evaluated"):
            raise bad('expected "no_penalty" or "not_evaluated"')
        return value
    raise AssertionError(kind)  # pragma: no cover


def parse_profile(data: dict[str, Any], source: str = "<profile>") -> Profile:
    """Validate a parsed TOML document; every error names the offending key."""
    known = {"name", "description", *_SCHEMA}
    for key in data:
        if key not in known:
            raise ProfileError(f"{source}: unknown profile key {key!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"{source}: profile key 'name': expected a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ProfileError(f"{source}: profile key 'description': expected a string")
    values: dict[str, Any] = {}
    for section, keys in _SCHEMA.items():
        table = data.get(section)
        if not isinstance(table, dict):
            raise ProfileError(f"{source}: missing profile table [{section}]")
        for key in table:
            if key not in keys:
                raise ProfileError(f"{source}: unknown profile key '{section}.{key}'")
        for key, kind in keys.items():
            full = f"{section}.{key}"
            if key not in table:
                raise ProfileError(f"{source}: missing profile key {full!r}")
            try:
                values[full] = _parse(kind, full, table[key])
            except ProfileError as exc:
                raise ProfileError(f"{source}: {exc}") from None
    if values["counting.hours_from"] >= values["counting.hours_until"]:
        raise ProfileError(f"{source}: profile key 'counting.hours_until' must be after hours_from")
    if values["outcome.violation_below"] > values["outcome.warning_below"]:
        raise ProfileError(
            f"{source}: profile key 'outcome.violation_below' must not exceed warning_below"
        )
    if values["schedule.kind"] == "monthly" and not values["schedule.days"]:
        raise ProfileError(f"{source}: profile key 'schedule.days' must list days for monthly")
    if values["satisfaction.days"] < 1:
        raise ProfileError(f"{source}: profile key 'satisfaction.days' must be at least 1")
    return Profile(
        name=name,
        description=description,
        seller_silence=values["sessions.seller_silence"],
        buyer_silence=values["sessions.buyer_silence"],
        bot_grace=values["sessions.bot_grace"],
        reply_window=values["deadline.reply_window"],
        weekend_rule=values["deadline.weekend_rule"],
        weekend_deadline_weekday=values["deadline.weekend_deadline_weekday"],
        weekend_deadline_time=values["deadline.weekend_deadline_time"],
        hours_from_s=values["counting.hours_from"],
        hours_until_s=values["counting.hours_until"],
        schedule_kind=values["schedule.kind"],
        schedule_weekday=values["schedule.weekday"],
        schedule_time=values["schedule.time"],
        schedule_days=values["schedule.days"],
        gate_min_buyer_messages=values["gate.min_buyer_messages"],
        gate_below=values["gate.below"],
        violation_below=values["outcome.violation_below"],
        warning_below=values["outcome.warning_below"],
        satisfaction_days=values["satisfaction.days"],
        satisfaction_min_stars=values["satisfaction.min_stars"],
        satisfaction_target=values["satisfaction.target"],
    )


def builtin_profiles() -> list[str]:
    folder = resources.files("shopdesk.policy").joinpath("profiles")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name (``us``, ``cross-border``) or any profile file by path."""
    text: str
    source = str(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in builtin_profiles():
        res = resources.files("shopdesk.policy").joinpath("profiles", f"{name_or_path}.toml")
        text = res.read_text(encoding="utf-8")
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileError(
                f"unknown policy {source!r}: not a shipped profile "
                f"({', '.join(builtin_profiles())}) nor a readable file"
            )
        text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None
    return parse_profile(data, source)
