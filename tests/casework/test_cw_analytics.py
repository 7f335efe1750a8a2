"""Complaint analytics (rule CMP-9, decision CW-20)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cw_helpers import BUYER, STAFF, utc

from shopdesk.casework import complaints as C
from shopdesk.casework.analytics import (
    ComplaintRecord,
    complaint_stats,
    median,
    percentile_nearest_rank,
)
from shopdesk.casework.complaints import Channel
from shopdesk.casework.machine import Context

START, END = utc(2026, 3, 1), utc(2026, 4, 1)
H = 3600.0


def rec(
    i: int, cat: str | None, ch: str, ack_h: float | None, res_h: float | None, **kw: object
) -> ComplaintRecord:
    t = utc(2026, 3, 2) + timedelta(days=i)
    return ComplaintRecord(
        id=f"c{i}",
        category=cat,
        channel=ch,
        received_at=t,
        acknowledged_at=t + timedelta(hours=ack_h) if ack_h is not None else None,
        resolved_at=t + timedelta(hours=res_h) if res_h is not None else None,
        **kw,  # type: ignore[arg-type]
    )


def test_stats() -> None:
    records = [
        rec(0, "logistics", "in_app", 1, 24, satisfaction=5, got_resolution=True),
        rec(1, "logistics", "email", 2, 48, satisfaction=3, reopen_count=1, got_resolution=True),
        rec(2, "fraud", "phone", 3, None, got_resolution=False),
        rec(3, None, "in_app", None, None),
        rec(4, "fraud", "in_app", 10, 100, satisfaction=4, got_resolution=True),
        rec(40, "fraud", "in_app", 1, 1),  # received outside the period
    ]
    s = complaint_stats(records, START, END)
    assert s.total == 5
    assert s.by_category == {"fraud": 2, "logistics": 2, "untriaged": 1}
    assert s.by_channel == {"email": 1, "in_app": 3, "phone": 1}
    assert s.time_to_acknowledge.count == 4
    assert s.time_to_acknowledge.median_s == 2.5 * H and s.time_to_acknowledge.p90_s == 10 * H
    assert s.time_to_resolve.median_s == 48 * H and s.time_to_resolve.p90_s == 100 * H
    assert s.reopened == 1 and s.reopen_rate == pytest.approx(1 / 3)
    assert s.satisfaction_count == 3 and s.satisfaction_mean == 4.0
    assert s.satisfied_share == pytest.approx(2 / 3)


def test_empty_and_bad_period() -> None:
    s = complaint_stats([], START, END)
    assert s.total == 0 and s.reopen_rate is None and s.satisfaction_mean is None
    assert s.time_to_resolve.median_s is None and s.time_to_resolve.p90_s is None
    with pytest.raises(ValueError):
        complaint_stats([], END, START)


def test_percentiles() -> None:
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5
    assert percentile_nearest_rank(list(range(1, 11)), 0.9) == 9
    assert percentile_nearest_rank([7], 0.9) == 7


def test_from_cases(ctx: Context) -> None:
    t0 = utc(2026, 3, 11, 14)
    c = C.open_complaint(
        case_id="c-1",
        complainant=BUYER,
        channel=Channel.EMAIL,
        subject="s",
        text="late",
        now=t0,
        ctx=ctx,
    ).case
    c = C.apply(c, "acknowledge", STAFF, t0 + timedelta(hours=1), ctx).case
    c = C.apply(
        c,
        "triage",
        STAFF,
        t0 + timedelta(hours=1),
        ctx,
        {"category": "logistics", "nature": "simple"},
    ).case
    c = C.apply(c, "assign", STAFF, t0 + timedelta(hours=1), ctx, {"team": "log"}).case
    c = C.apply(
        c, "propose_resolution", STAFF, t0 + timedelta(hours=2), ctx, {"resolution": "x"}
    ).case
    c = C.apply(c, "reopen", BUYER, t0 + timedelta(hours=3), ctx, {"reason": "no"}).case
    c = C.apply(
        c, "propose_resolution", STAFF, t0 + timedelta(hours=4), ctx, {"resolution": "y"}
    ).case
    c = C.apply(c, "confirm", BUYER, t0 + timedelta(hours=5), ctx, {"satisfaction": 2}).case
    s = complaint_stats([c], START, END)
    assert s.by_category == {"logistics": 1} and s.by_channel == {"email": 1}
    assert s.time_to_acknowledge.median_s == H and s.time_to_resolve.median_s == 5 * H
    assert s.reopen_rate == 1.0 and s.satisfied_share == 0.0
