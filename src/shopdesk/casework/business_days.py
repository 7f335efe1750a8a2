"""Business-day arithmetic in a shop's time zone with its country's public holidays.

Time is always passed in. Every result is an aware UTC datetime. Rules of counting
(decision CW-1):

* a *business day* is a local date that is not a weekend day of the marketplace, not a
  public holiday of the shop's country (``holidays`` library, with the shop's subdivision),
  and not an extra closed date of the marketplace; the library's official weekend working
  days (e.g. China's make-up days) and the marketplace's extra open dates are business days;
* ``add_business_days(t, n)`` keeps the local wall-clock time of ``t`` and moves forward
  n business days; a ``t`` on a closed day counts from 00:00 of the next business day
  (so Saturday + 2 = the end of Tuesday, i.e. Wednesday 00:00 local);
* across DST the local wall-clock time is kept; a wall-clock time that does not exist
  (spring gap) resolves to the instant one gap later, an ambiguous one (autumn) to the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from shopdesk.casework.policy import CalendarSettings


def require_aware(instant: datetime, name: str = "instant") -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {instant!r}")
    return instant


@lru_cache(maxsize=512)
def _country_days(
    country: str, subdivision: str | None, year: int
) -> tuple[frozenset[date], frozenset[date]]:
    cal = holidays.country_holidays(country, subdiv=subdivision, years=year)
    workdays = frozenset(getattr(cal, "weekend_workdays", ()) or ())
    return frozenset(cal.keys()), workdays


@dataclass(frozen=True)
class BusinessCalendar:
    """A shop's calendar: its IANA zone, its country (ISO 3166) and marketplace settings."""

    timezone: str = "UTC"
    country: str | None = None
    subdivision: str | None = None
    weekend_days: frozenset[int] = field(default=frozenset({5, 6}))
    extra_closed_dates: frozenset[date] = frozenset()
    extra_open_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {self.timezone!r}") from None
        if any(not 0 <= d <= 6 for d in self.weekend_days):
            raise ValueError("weekend_days must be 0 (Monday) … 6 (Sunday)")
        if self.country is not None:
            try:
                holidays.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError:
                raise ValueError(
                    f"no public holidays known for country {self.country!r}"
                    f" subdivision {self.subdivision!r}"
                ) from None

    @classmethod
    def for_shop(
        cls,
        timezone: str,
        country: str | None,
        settings: CalendarSettings | None = None,
        subdivision: str | None = None,
    ) -> BusinessCalendar:
        s = settings or CalendarSettings()
        return cls(
            timezone=timezone,
            country=country,
            subdivision=subdivision,
            weekend_days=s.weekend_days,
            extra_closed_dates=s.extra_closed_dates,
            extra_open_dates=s.extra_open_dates,
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: datetime) -> datetime:
        return require_aware(instant).astimezone(self.tz)

    def local_date(self, instant: datetime) -> date:
        return self.local(instant).date()

    def at_local(self, day: date, wall: time = time(0)) -> datetime:
        """The UTC instant of a local wall-clock time (see the DST note above)."""
        local = datetime.combine(day, wall, tzinfo=self.tz)
        return local.astimezone(UTC)

    def is_public_holiday(self, day: date) -> bool:
        if self.country is None:
            return False
        return day in _country_days(self.country, self.subdivision, day.year)[0]

    def is_business_day(self, day: date) -> bool:
        if day in self.extra_open_dates:
            return True
        if day in self.extra_closed_dates:
            return False
        if self.country is not None:
            official, workdays = _country_days(self.country, self.subdivision, day.year)
            if day in workdays:
                return True
            if day in official:
                return False
        return day.weekday() not in self.weekend_days

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        for _ in range(3660):
            day += timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError("no business day within ten years: check the calendar settings")

    def add_business_days(self, start: datetime, n: int) -> datetime:
        if n < 0:
            raise ValueError("n must be >= 0")
        local = self.local(start)
        day, wall = local.date(), local.time().replace(tzinfo=None)
        if not self.is_business_day(day):
            day, wall = self.next_business_day(day), time(0)
        for _ in range(n):
            day = self.next_business_day(day)
        if wall == local.time().replace(tzinfo=None) and day == local.date():
            return start.astimezone(UTC)
        return self.at_local(day, wall)

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Whole business days from ``start`` until ``end`` (0 if ``end`` is earlier)."""
        count = 0
        while self.add_business_days(start, count + 1) <= end:
            count += 1
        return count

    def add_calendar_days(self, start: datetime, n: int) -> datetime:
        """Same local wall-clock time n calendar days later."""
        local = self.local(start)
        return self.at_local(local.date() + timedelta(days=n), local.time().replace(tzinfo=None))

    def start_of_next_day(self, instant: datetime) -> datetime:
        """00:00 local of the day after ``instant`` (rule FM-5: effective the next day)."""
        return self.at_local(self.local_date(instant) + timedelta(days=1))


def add_hours(start: datetime, hours: float) -> datetime:
    """Elapsed time (48 hours are 48 real hours, whatever DST does)."""
    return require_aware(start).astimezone(UTC) + timedelta(hours=hours)
