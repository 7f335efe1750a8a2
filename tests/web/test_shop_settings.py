"""Business hours (CHAT-4) in the shop's time zone, and vacation mode (CHAT-6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.world import FakeClock
from tests.web.conftest import Api

# Shop A is in America/Los_Angeles (UTC-8 in November 2026; DST ended on 1 November).
HOURS = {"windows": [
    {"weekday": 0, "opens": "09:00", "closes": "12:00"},
    {"weekday": 0, "opens": "13:00", "closes": "17:00"},
    {"weekday": 4, "opens": "10:00", "closes": "00:00"},
], "closed_dates": ["2026-11-26"]}


def u(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def shop(api: Api, who: str = "buyer1") -> Any:
    return api.get(who, f"/api/v1/shops/{api.world.shops['a']}").json()


def test_hours_open_now_and_next_opening_in_shop_time(api: Api, clock: FakeClock) -> None:
    path = f"/api/v1/shops/{api.world.shops['a']}/hours"
    r = api.put("owner_a", path, HOURS)
    assert r.status_code == 200, r.text
    cases = [
        # (UTC now, open_now, next opening in UTC)
        (u(2026, 11, 2, 15, 0), False, u(2026, 11, 2, 17, 0)),
        (u(2026, 11, 2, 18, 0), True, None),
        (u(2026, 11, 2, 20, 30), False, u(2026, 11, 2, 21, 0)),
        (u(2026, 11, 3, 0, 59), True, None),  # Monday 16:59 local
        (u(2026, 11, 3, 1, 0), False, u(2026, 11, 6, 18, 0)),
        (u(2026, 11, 7, 7, 59), True, None),  # Friday 23:59 local
        (u(2026, 11, 7, 8, 0), False, u(2026, 11, 9, 17, 0)),
    ]
    for now, is_open, nxt in cases:
        clock.now = now
        body = shop(api)
        assert body["open_now"] is is_open, now
        if nxt is None:
            assert body["next_opening"] is None, now
        else:
            assert at(body["next_opening"]) == nxt, now
    # A closed date (Thanksgiving, a Thursday) is skipped; Friday opens as usual.
    clock.now = u(2026, 11, 24, 12, 0)
    assert at(shop(api)["next_opening"]) == u(2026, 11, 27, 18, 0)
    got = api.get("agent_a", path).json()
    assert got["timezone"] == "America/Los_Angeles" and got["closed_dates"] == ["2026-11-26"]
    assert [(w["weekday"], w["opens"], w["closes"]) for w in got["windows"]] == [
        (0, "09:00:00", "12:00:00"), (0, "13:00:00", "17:00:00"), (4, "10:00:00", "00:00:00")]


def test_hours_are_set_by_owner_or_admin_only_and_validated(api: Api) -> None:
    path = f"/api/v1/shops/{api.world.shops['a']}/hours"
    r = api.put("agent_a", path, HOURS)
    assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    assert api.put("owner_b", path, HOURS).status_code == 404
    assert api.put("buyer1", path, HOURS).status_code in (403, 404)
    assert api.put("admin_a", path, HOURS).status_code == 200
    overlapping = {"windows": [{"weekday": 2, "opens": "09:00", "closes": "13:00"},
                               {"weekday": 2, "opens": "12:00", "closes": "18:00"}]}
    r = api.put("owner_a", path, overlapping)
    assert r.status_code == 422 and r.json()["code"] == "invalid_hours"
    assert "overlap" in r.json()["message"]
    backwards = {"windows": [{"weekday": 1, "opens": "18:00", "closes": "09:00"}]}
    assert api.put("owner_a", path, backwards).status_code == 422
    # Refused changes leave the previous hours in place.
    assert len(api.get("owner_a", path).json()["windows"]) == 3


def test_vacation_periods_are_recorded(api: Api, clock: FakeClock) -> None:
    path = f"/api/v1/shops/{api.world.shops['a']}/vacation"
    assert api.put("agent_a", path, {"enabled": True}).status_code == 403
    r = api.put("owner_a", path, {"enabled": False})
    assert r.status_code == 409 and r.json()["code"] == "no_change"
    start = clock.now
    r = api.put("owner_a", path, {"enabled": True})
    assert r.status_code == 200 and r.json()["vacation_mode"] is True
    assert shop(api)["vacation_mode"] is True
    assert api.put("admin_a", path, {"enabled": True}).status_code == 409
    clock.advance(days=3)
    assert api.put("admin_a", path, {"enabled": False}).status_code == 200
    periods = api.get("agent_a", path).json()
    assert len(periods) == 1
    assert at(periods[0]["start"]) == start and at(periods[0]["end"]) == clock.now
    assert api.get("owner_b", path).status_code == 404
    assert shop(api)["vacation_mode"] is False
