"""Complaint analytics (rule CMP-9): pure functions over a list of case records.

Definitions (decision CW-20):

* the period is half-open ``[start, end)`` on the receipt instant;
* time to acknowledge = acknowledged_at − received_at; time to resolve = resolved_at −
  received_at (the first confirmation, by the complainant or by silence); cases without the
  instant are left out of that statistic;
* median: the middle value (mean of the two middle ones); p90: nearest rank
  (the ⌈0.9·n⌉-th smallest value);
* reopen rate = cases reopened at least once ÷ cases that got a proposed resolution
  (reopened, resolved, or awaiting confirmation); none → None;
* satisfaction: mean score and share of scores ≥ 4 over cases with a score.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from shopdesk.casework.complaints import ComplaintCase

PROPOSED_STATES = frozenset({"awaiting_confirmation", "resolved", "closed", "followed_up"})


@dataclass(frozen=True)
class ComplaintRecord:
    id: str
    category: str | None
    channel: str
    received_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    reopen_count: int = 0
    satisfaction: int | None = None
    got_resolution: bool = False


def record_of(case: ComplaintCase) -> ComplaintRecord:
    return ComplaintRecord(
        id=case.id,
        category=case.category.value if case.category else None,
        channel=case.channel.value,
        received_at=case.opened_at,
        acknowledged_at=case.acknowledged_at,
        resolved_at=case.resolved_at,
        reopen_count=case.reopen_count,
        satisfaction=case.satisfaction,
        got_resolution=case.reopen_count > 0 or case.state in PROPOSED_STATES,
    )


@dataclass(frozen=True)
class Durations:
    count: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class ComplaintStats:
    start: datetime
    end: datetime
    total: int
    by_category: dict[str, int]
    by_channel: dict[str, int]
    time_to_acknowledge: Durations
    time_to_resolve: Durations
    reopened: int
    reopen_rate: float | None
    satisfaction_count: int
    satisfaction_mean: float | None
    satisfied_share: float | None


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return float(v[mid]) if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def percentile_nearest_rank(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    rank = max(1, math.ceil(q * len(v)))
    return float(v[rank - 1])


def _durations(values: list[float]) -> Durations:
    return Durations(len(values), median(values), percentile_nearest_rank(values, 0.9))


def complaint_stats(
    records: Iterable[ComplaintRecord | ComplaintCase], start: datetime, end: datetime
) -> ComplaintStats:
    """Rule CMP-9: volume, times, reopen rate and satisfaction for complaints received in
    ``[start, end)``."""
    if end <= start:
        raise ValueError("the period must end after it starts")
    recs = [r if isinstance(r, ComplaintRecord) else record_of(r) for r in records]
    recs = [r for r in recs if start <= r.received_at < end]
    ack = [(r.acknowledged_at - r.received_at).total_seconds() for r in recs if r.acknowledged_at]
    res = [(r.resolved_at - r.received_at).total_seconds() for r in recs if r.resolved_at]
    proposed = [r for r in recs if r.got_resolution or r.resolved_at or r.reopen_count]
    reopened = sum(1 for r in recs if r.reopen_count > 0)
    scores = [r.satisfaction for r in recs if r.satisfaction is not None]
    return ComplaintStats(
        start=start,
        end=end,
        total=len(recs),
        by_category=dict(sorted(Counter(r.category or "untriaged" for r in recs).items())),
        by_channel=dict(sorted(Counter(r.channel for r in recs).items())),
        time_to_acknowledge=_durations(ack),
        time_to_resolve=_durations(res),
        reopened=reopened,
        reopen_rate=reopened / len(proposed) if proposed else None,
        satisfaction_count=len(scores),
        satisfaction_mean=sum(scores) / len(scores) if scores else None,
        satisfied_share=sum(1 for s in scores if s >= 4) / len(scores) if scores else None,
    )
