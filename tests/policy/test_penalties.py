"""Penalty decisions (PEN-2, PEN-4)."""

from __future__ import annotations

from shopdesk.policy.penalties import PenaltySettings, for_outcome, for_screening

S = PenaltySettings()


def test_pen2_ok_and_not_evaluated_give_nothing() -> None:
    assert for_outcome("ok", 0.95, [], S) is None
    assert for_outcome("not_evaluated", None, [], S) is None


def test_pen2_warning_below_90() -> None:
    d = for_outcome("warning", 0.88, [], S)
    assert d is not None and d.kind == "warning" and d.points == 0 and "88.0%" in d.reason


def test_pen2_first_violation_is_one_point_without_sanctions() -> None:
    d = for_outcome("violation", 0.8, ["ok", "warning"], S)
    assert d is not None and (d.kind, d.points, d.sanctions) == ("violation", 1, ())


def test_pen2_keeps_falling_escalates() -> None:
    d2 = for_outcome("violation", 0.7, ["ok", "violation"], S)
    assert d2 is not None and d2.kind == "escalated_violation"
    assert d2.sanctions == ("category_applications_rejected",) and "2 in a row" in d2.reason
    d4 = for_outcome("violation", 0.7, ["violation", "violation", "violation"], S)
    assert d4 is not None and d4.sanctions == ("category_applications_rejected",
                                               "products_removed")


def test_pen2_streak_is_broken_by_a_good_week() -> None:
    d = for_outcome("violation", 0.8, ["violation", "ok"], S)
    assert d is not None and d.kind == "violation"


def test_pen4_screening_points() -> None:
    assert for_screening("SCR-1", "phone", confirmed=True, settings=S).points == 1
    blocked = for_screening("SCR-1", "phone", confirmed=False, settings=S)
    assert blocked.points == 0 and "blocked before delivery" in blocked.reason
