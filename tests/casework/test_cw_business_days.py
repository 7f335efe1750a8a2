"""Business days across weekends, holidays and DST (decision CW-1, rules AS-3/AS-4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopdesk.casework.business_days import BusinessCalendar, add_hours
from shopdesk.casework.policy import CalendarSettings

NY = BusinessCalendar.for_shop("America/New_York", "US")


def ny(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=NY.tz)


def test_friday_plus_two_is_tuesday_same_time() -> None:  # rule AS-3
    due = NY.add_business_days(ny(2026, 3, 6, 15), 2)
    assert due == ny(2026, 3, 10, 15).astimezone(UTC)
    assert due.tzinfo is UTC


def test_saturday_counts_from_monday_midnight() -> None:
    assert NY.add_business_days(ny(2026, 3, 7, 10), 2) == ny(2026, 3, 11).astimezone(UTC)


def test_zero_days_on_business_day_is_identity_and_on_weekend_next_open() -> None:
    assert NY.add_business_days(ny(2026, 3, 4, 9), 0) == ny(2026, 3, 4, 9).astimezone(UTC)
    assert NY.add_business_days(ny(2026, 3, 7, 9), 0) == ny(2026, 3, 9).astimezone(UTC)


def test_public_holiday_is_skipped() -> None:
    # Friday 2026-07-03 is the observed Independence Day holiday in the US
    assert NY.is_public_holiday(date(2026, 7, 3))
    assert not NY.is_business_day(date(2026, 7, 3))
    assert NY.add_business_days(ny(2026, 7, 2, 12), 1) == ny(2026, 7, 6, 12).astimezone(UTC)


def test_thanksgiving_and_ten_days() -> None:  # rule AS-4
    # Mon 2026-11-23 + 10 business days: skips Thanksgiving (26th) and two weekends
    assert NY.add_business_days(ny(2026, 11, 23, 9), 10) == ny(2026, 12, 8, 9).astimezone(UTC)


def test_dst_spring_forward_keeps_wall_clock() -> None:
    # US DST starts Sunday 2026-03-08; Friday 10:00 EST + 1 = Monday 10:00 EDT
    start = ny(2026, 3, 6, 10)
    due = NY.add_business_days(start, 1)
    assert due == datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert (due - start.astimezone(UTC)).total_seconds() == 71 * 3600


def test_dst_autumn_keeps_wall_clock() -> None:
    # DST ends Sunday 2026-11-01; Friday 10:00 EDT + 1 = Monday 10:00 EST
    assert NY.add_business_days(ny(2026, 10, 30, 10), 1) == datetime(2026, 11, 2, 15, tzinfo=UTC)


def test_dst_gap_wall_clock_resolves_forward() -> None:
    cal = BusinessCalendar("America/New_York", None, weekend_days=frozenset())
    # 02:30 on 2026-03-08 does not exist in New York: resolves to 03:30 EDT
    assert cal.at_local(date(2026, 3, 8), time(2, 30)) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_hours_are_elapsed_time_across_dst() -> None:  # rule DSP-3
    start = ny(2026, 3, 7, 12)
    assert add_hours(start, 48) - start.astimezone(UTC) == (
        datetime(2026, 3, 9, tzinfo=UTC) - datetime(2026, 3, 7, tzinfo=UTC)
    )


def test_marketplace_weekend_and_extra_dates() -> None:
    settings = CalendarSettings(
        weekend_days=frozenset({4, 5}),  # Friday/Saturday weekend
        extra_closed_dates=frozenset({date(2026, 3, 2)}),
        extra_open_dates=frozenset({date(2026, 3, 7)}),
    )
    cal = BusinessCalendar.for_shop("Asia/Dubai", None, settings)
    assert not cal.is_business_day(date(2026, 3, 6))  # Friday
    assert cal.is_business_day(date(2026, 3, 8))  # Sunday
    assert not cal.is_business_day(date(2026, 3, 2))  # extra closed Monday
    assert cal.is_business_day(date(2026, 3, 7))  # extra open Saturday
    start = datetime(2026, 3, 1, 9, tzinfo=cal.tz)  # Sunday
    assert cal.add_business_days(start, 1) == datetime(2026, 3, 3, 9, tzinfo=cal.tz)


def test_china_make_up_working_day_counts() -> None:
    cn = BusinessCalendar.for_shop("Asia/Shanghai", "CN")
    assert cn.is_business_day(date(2026, 1, 4))  # Sunday worked in lieu of 2 January
    assert not cn.is_business_day(date(2026, 1, 2))
    assert not cn.is_business_day(date(2026, 2, 17))  # Spring Festival


def test_business_days_between_and_next_day() -> None:
    assert NY.business_days_between(ny(2026, 3, 6, 15), ny(2026, 3, 10, 15)) == 2
    assert NY.business_days_between(ny(2026, 3, 6, 15), ny(2026, 3, 10, 14)) == 1
    assert NY.start_of_next_day(ny(2026, 3, 6, 23, 30)) == ny(2026, 3, 7).astimezone(UTC)


def test_rejects_naive_times_and_bad_settings() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        NY.add_business_days(datetime(2026, 3, 6, 12), 1)
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar("Mars/Olympus")
    with pytest.raises(ValueError, match="country"):
        BusinessCalendar("UTC", "XX")
    with pytest.raises(ValueError):
        NY.add_business_days(ny(2026, 3, 6), -1)


ZONES = ["America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Sydney"]
COUNTRIES = {"America/New_York": "US", "Europe/London": "GB", "Asia/Shanghai": "CN"}


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(min_value=0, max_value=15),
    st.sampled_from(ZONES),
)
def test_property_lands_on_business_day_and_counts_back(
    naive: datetime, n: int, zone: str
) -> None:  # decision CW-1
    cal = BusinessCalendar.for_shop(zone, COUNTRIES.get(zone, "AU"))
    start = naive.replace(tzinfo=UTC)
    due = cal.add_business_days(start, n)
    assert due.tzinfo is UTC and due >= start
    assert cal.is_business_day(cal.local_date(due))
    if cal.is_business_day(cal.local_date(start)):
        assert cal.business_days_between(start, due) == n
    assert cal.add_business_days(start, n + 1) > due
