"""Policy profiles as data (Decision SES-D1; SPEC §5, §6, §13)."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from shopdesk.policy.profiles import ProfileError, builtin_profiles, load_profile

SHIPPED = Path(__file__).parents[2] / "src/shopdesk/policy/profiles/us.toml"


def test_shipped_profiles_hold_the_spec_values() -> None:
    assert builtin_profiles() == ["cross-border", "us"]
    us = load_profile("us")
    assert us.reply_window == timedelta(hours=24) and us.weekend_rule
    assert us.weekend_deadline_time == time(12) and us.weekend_deadline_weekday == 0
    assert (us.seller_silence, us.buyer_silence, us.bot_grace) == (
        timedelta(hours=72), timedelta(hours=6), timedelta(minutes=10))
    assert us.gate_min_buyer_messages == 5 and us.schedule_kind == "weekly"
    assert (us.violation_below, us.warning_below) == (0.85, 0.90)
    assert (us.satisfaction_days, us.satisfaction_min_stars) == (30, 4)
    xb = load_profile("cross-border")
    assert xb.reply_window == timedelta(hours=72) and not xb.weekend_rule
    assert (xb.hours_from_s, xb.hours_until_s) == (8 * 3600, 23 * 3600)
    assert xb.schedule_days == (1, 16) and xb.gate_min_buyer_messages == 20


def test_marketplace_profile_by_path(tmp_path: Path) -> None:
    text = SHIPPED.read_text().replace('name = "us"', 'name = "mine"').replace(
        'reply_window = "24h"', 'reply_window = "12h"')
    path = tmp_path / "mine.toml"
    path.write_text(text)
    p = load_profile(str(path))
    assert p.name == "mine" and p.reply_window == timedelta(hours=12)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('reply_window = "24h"', 'reply_window = "soon"', "deadline.reply_window"),
        ("min_buyer_messages = 5", "min_buyer_messages = -1", "gate.min_buyer_messages"),
        ("violation_below = 0.85", "violation_below = 85", "outcome.violation_below"),
        ('weekday = "monday"\ntime', 'weekday = "funday"\ntime', "schedule.weekday"),
        ("min_stars = 4", "min_stars = 4\nextra = 1", "satisfaction.extra"),
        ('bot_grace = "10m"\n', "", "sessions.bot_grace"),
    ],
)
def test_bad_profile_names_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    text = SHIPPED.read_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ProfileError, match=key.replace(".", r"\.")):
        load_profile(str(path))


def test_unknown_profile_name_is_refused() -> None:
    with pytest.raises(ProfileError, match="unknown policy 'mars'"):
        load_profile("mars")
