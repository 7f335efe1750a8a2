"""Casework policy TOML: defaults load, bad keys are named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from shopdesk.casework.codec import from_data, to_data
from shopdesk.casework.policy import (
    CaseworkPolicy,
    PolicyError,
    default_policy_text,
    load_policy,
    parse_policy,
)


def _data() -> dict:  # type: ignore[type-arg]
    return tomllib.loads(default_policy_text())


def test_packaged_defaults_match_spec() -> None:
    p = load_policy()
    assert p.aftersales.refund_response_business_days == 2  # rule AS-3
    assert p.aftersales.completion_business_days == 10  # rule AS-4
    assert p.aftersales.missed_response_action == "escalate"  # decision AS-D1
    assert p.disputes.no_service_review_hours == 48  # rule DSP-3
    assert p.disputes.max_appeals == 1  # rule DSP-4
    assert p.force_majeure.review_hours == 48  # rule FM-5
    assert p.calendar.weekend_days == frozenset({5, 6})
    assert p == parse_policy(to_data(p))
    assert load_policy() == from_data(CaseworkPolicy, _data())


@pytest.mark.parametrize(
    ("section", "key", "value", "needle"),
    [
        ("aftersales", "missed_response_action", "shrug", "aftersales.missed_response_action"),
        ("aftersales", "completion_business_days", 0, "aftersales.completion_business_days"),
        (
            "aftersales",
            "refund_response_busines_days",
            2,
            "aftersales.refund_response_busines_days",
        ),
        ("disputes", "review_hours", "48h", "disputes.review_hours"),
        ("calendar", "weekend_days", [7], "calendar"),
        ("calendar", "extra_closed_dates", ["2026-02-30"], "calendar.extra_closed_dates[0]"),
        ("force_majeure", "max_extension_days", True, "force_majeure.max_extension_days"),
    ],
)
def test_bad_key_is_named(section: str, key: str, value: object, needle: str) -> None:
    data = _data()
    data[section][key] = value
    with pytest.raises(PolicyError) as err:
        parse_policy(data)
    assert needle in str(err.value)


def test_nested_and_missing_keys(tmp_path: Path) -> None:
    data = _data()
    del data["complaints"]["acknowledge_hours"]["high"]
    with pytest.raises(PolicyError, match=r"complaints\.acknowledge_hours\.high: missing key"):
        parse_policy(data)
    data = _data()
    data["tickets"]["routing"]["bogus"] = "x"
    with pytest.raises(PolicyError, match=r"tickets\.routing\.bogus"):
        parse_policy(data)
    data = _data()
    del data["tickets"]["routing"]["appeal"]
    with pytest.raises(PolicyError, match=r"tickets\.routing"):
        parse_policy(data)
    bad = tmp_path / "p.toml"
    bad.write_text("[aftersales\n")
    with pytest.raises(PolicyError, match="TOML"):
        load_policy(bad)
    good = tmp_path / "ok.toml"
    good.write_text("[aftersales]\nmissed_response_action = 'notify'\n")
    assert load_policy(good).aftersales.missed_response_action == "notify"
