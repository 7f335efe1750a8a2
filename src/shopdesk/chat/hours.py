"""Business hours (CHAT-4): several windows per weekday plus closed dates, shop-local."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    opens: time
    closes: time  # time(0, 0) as `closes` means midnight at the end of the day


@dataclass(frozen=True)
class Hours:
    timezone: str
    windows: tuple[Window, ...]
    closed_dates: frozenset[date] = frozenset()

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.closed_dates:
            return []
        tz = ZoneInfo(self.timezone)
        spans = []
        for w in self.windows:
            if w.weekday != day.weekday():
                continue
            start = datetime.combine(day, w.opens, tz)
            end_day = day + timedelta(days=1) if w.closes == time(0) else day
            spans.append((start, datetime.combine(end_day, w.closes, tz)))
        return sorted(spans)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        return any(s <= local < e for s, e in self._spans(local.date()))

    def next_opening(self, at: datetime, horizon_days: int = 14) -> datetime | None:
        """The next instant the shop opens after `at` (None if closed for the whole horizon)."""
        local = at.astimezone(ZoneInfo(self.timezone))
        for offset in range(horizon_days + 1):
            for start, _end in self._spans(local.date() + timedelta(days=offset)):
                if start > local:
                    return start
        return None


def validate_windows(windows: list[Window]) -> None:
    by_day: dict[int, list[Window]] = {}
    for w in windows:
        if not 0 <= w.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if w.closes != time(0) and w.closes <= w.opens:
            raise ValueError(f"window {w.opens}–{w.closes} closes before it opens")
        by_day.setdefault(w.weekday, []).append(w)
    for day, ws in by_day.items():
        ws.sort(key=lambda w: w.opens)
        for a, b in pairwise(ws):
            if a.closes == time(0) or a.closes > b.opens:
                raise ValueError(f"windows overlap on weekday {day}")
