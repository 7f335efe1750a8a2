"""Shop-local calendar arithmetic (rule EV-1, EV-5, EV-8).

Local wall-clock times are turned into instants with zoneinfo and ``fold=0``: an ambiguous
time (autumn DST) is its first occurrence; a non-existent one (spring gap) maps per PEP 495
(the pre-transition offset, i.e. the instant just after the gap by the gap's length).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shopdesk.policy.profiles import Profile


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC
    evaluated_at: datetime  # UTC


def _scheduled_dates_back(profile: Profile, day: date) -> date:
    """The latest scheduled evaluation date on or before ``day``."""
    if profile.schedule_kind == "weekly":
        return day - timedelta(days=(day.weekday() - profile.schedule_weekday) % 7)
    days = [d for d in profile.schedule_days if d <= day.day]
    if days:
        return day.replace(day=days[-1])
    prev = day.replace(day=1) - timedelta(days=1)
    return prev.replace(day=profile.schedule_days[-1])


def _previous_scheduled_date(profile: Profile, day: date) -> date:
    return _scheduled_dates_back(profile, day - timedelta(days=1))


def window_for(profile: Profile, tz: ZoneInfo, at: datetime) -> Window:
    """The evaluation whose scheduled instant is the latest at or before ``at`` (rule EV-8).

    Weekly: window = the 7 calendar days before the evaluation date; monthly (1st/16th):
    from the previous scheduled date 00:00 to the evaluation date 00:00.
    """
    day = at.astimezone(tz).date()
    cand = _scheduled_dates_back(profile, day)
    while local_instant(cand, profile.schedule_time, tz) > at:
        cand = _previous_scheduled_date(profile, cand)
    prev = _previous_scheduled_date(profile, cand)
    return Window(
        start=local_instant(prev, time(0), tz),
        end=local_instant(cand, time(0), tz),
        evaluated_at=local_instant(cand, profile.schedule_time, tz),
    )


def weekend_deadline(start: datetime, tz: ZoneInfo, profile: Profile) -> datetime:
    """Next ``weekend_deadline_weekday`` (Monday) noon strictly after the start's local date."""
    return weekend_deadline_from_date(start.astimezone(tz).date(), tz, profile)


def weekend_deadline_from_date(day: date, tz: ZoneInfo, profile: Profile) -> datetime:
    ahead = (profile.weekend_deadline_weekday - day.weekday()) % 7 or 7
    return local_instant(day + timedelta(days=ahead), profile.weekend_deadline_time, tz)


def deadline_for(start: datetime, tz: ZoneInfo, profile: Profile, chatbot_on: bool) -> datetime:
    """Rule EV-5: start + reply window, or next Monday 12:00 under the weekend rule."""
    plain = start + profile.reply_window
    if profile.weekend_rule and chatbot_on:
        weekend = (5, 6)
        if start.astimezone(tz).weekday() in weekend or plain.astimezone(tz).weekday() in weekend:
            return weekend_deadline(start, tz, profile)
    return plain


def seconds_of_day(instant: datetime, tz: ZoneInfo) -> int:
    loc = instant.astimezone(tz)
    return loc.hour * 3600 + loc.minute * 60 + loc.second


def minus_local_days(instant: datetime, tz: ZoneInfo, days: int) -> datetime:
    """Same local wall-clock time ``days`` calendar days earlier (rule EV-10)."""
    loc = instant.astimezone(tz).replace(tzinfo=None) - timedelta(days=days)
    return loc.replace(tzinfo=tz).astimezone(UTC)
