"""The reference evaluator: one shop at a time, written to read like SPEC §13.

Public entry points for the server: :func:`evaluate_shop` (one shop's events) and
:func:`evaluate_log` (a whole log, as ``shopdesk evaluate`` does). Pure: time is passed in.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shopdesk.policy.events import (
    ChatbotSwitch,
    Event,
    Message,
    ShopLog,
    Vacation,
    event_time,
    group_by_shop,
)
from shopdesk.policy.localtime import (
    Window,
    deadline_for,
    minus_local_days,
    seconds_of_day,
    window_for,
)
from shopdesk.policy.profiles import Profile
from shopdesk.policy.report import SessionResult, ShopEvaluation
from shopdesk.policy.sessions import Session, sessionise

_US = timedelta(microseconds=1)


def chatbot_on(switches: list[ChatbotSwitch], instant: datetime) -> bool:
    """The latest switch at or before ``instant`` wins; no switch: off."""
    state = False
    for sw in switches:
        if sw.at > instant:
            break
        state = sw.enabled
    return state


def in_vacation(vacations: list[Vacation], instant: datetime) -> bool:
    """Rule CHAT-6/EV-7: vacation covers start <= t < end (open end: still on)."""
    return any(v.start <= instant and (v.end is None or instant < v.end) for v in vacations)


def _outcome(profile: Profile, rate: float | None, gate_ok: bool) -> str:
    """Rule EV-11 (and EV-9: below the volume gate nothing is penalised)."""
    if rate is None or not gate_ok:
        return "not_evaluated"
    if rate < profile.violation_below:
        return "violation"
    if rate < profile.warning_below:
        return "warning"
    return "ok"


def _exclusions(log: ShopLog, sessions: list[Session], at: datetime) -> dict[int, set[str]]:
    """Each exclusion hits the latest session of its conversation started at or before it."""
    hit: dict[int, set[str]] = {}
    for ex in log.exclusions:
        if ex.at > at:
            continue
        target = None
        for s in sessions:
            if s.conversation == ex.conversation and s.start <= ex.at:
                target = s
        if target is not None:
            hit.setdefault(id(target), set()).add(ex.reason)
    return hit


def evaluate_shop(
    log: ShopLog, profile: Profile, at: datetime, explain: bool = True
) -> ShopEvaluation:
    """Evaluate one shop for its latest scheduled evaluation at or before ``at`` (EV-8)."""
    tz = ZoneInfo(log.timezone)
    win: Window = window_for(profile, tz, at)
    now = win.evaluated_at  # only events at or before the evaluation instant count
    chatbot = [c for c in log.chatbot if c.at <= now]
    vacations = [v for v in log.vacations if v.start <= now]

    sessions: list[Session] = []
    buyer_messages = 0
    for conv, events in log.conversations.items():
        visible = [e for e in events if e.at <= now]
        for e in visible:
            if (
                isinstance(e, Message)
                and e.sender == "buyer"
                and win.start <= e.at < win.end
                and not in_vacation(vacations, e.at)  # rule EV-9
            ):
                buyer_messages += 1
        sessions.extend(sessionise(conv, visible, profile))
    sessions.sort(key=lambda s: (s.start, s.conversation))
    excluded = _exclusions(log, sessions, now)

    results: list[SessionResult] = []
    n_sessions = counted = pending = in_time = 0
    frt: list[int] = []  # microseconds, exact
    for s in sessions:
        in_window = win.start <= s.start < win.end
        if not in_window and not (s.start >= win.end or s.end is None or s.end >= win.start):
            continue  # neither in the window nor overlapping it: not reported
        deadline = deadline_for(s.start, tz, profile, chatbot_on(chatbot, s.start))
        reasons = excluded.get(id(s), set())
        tod = seconds_of_day(s.start, tz)
        if not in_window:
            status = "outside_window"
        elif "verified_report" in reasons:  # rule SCR-12
            status = "verified_report"
        elif "platform_handled" in reasons:  # rule MET-2
            status = "platform_handled"
        elif in_vacation(vacations, s.start):  # rule CHAT-6
            status = "vacation"
        elif s.bot_only:  # rule EV-4
            status = "bot_only"
        elif not profile.hours_from_s <= tod < profile.hours_until_s:  # rule MET-8
            status = "outside_hours"
        elif s.first_reply_at is not None:  # rule EV-6
            status = "answered_in_time" if s.first_reply_at <= deadline else "late"
        elif deadline > now:  # rule EV-7
            status = "pending"
        else:
            status = "unanswered"
        if in_window:
            n_sessions += 1
        if status in ("answered_in_time", "late", "pending", "unanswered"):
            counted += 1
            pending += status == "pending"
            in_time += status == "answered_in_time"
            if s.first_reply_at is not None:
                frt.append((s.first_reply_at - s.start) // _US)  # rule EV-12
        results.append(
            SessionResult(s.conversation, s.start, deadline, status, s.first_reply_at,
                          s.first_reply_by)
        )

    gate_ok = buyer_messages >= profile.gate_min_buyer_messages  # rule EV-9
    denominator = counted - pending  # rule EV-10
    rate = in_time / denominator if denominator else None
    median = statistics.median(frt) / 1e6 if frt else None
    mean = sum(frt) / len(frt) / 1e6 if frt else None
    if not gate_ok and profile.gate_below == "not_evaluated":  # rule MET-9
        rate = median = mean = None

    since = minus_local_days(now, tz, profile.satisfaction_days)  # rule EV-10
    stars = [r.stars for r in log.ratings if since < r.at <= now]
    good = sum(1 for x in stars if x >= profile.satisfaction_min_stars)

    return ShopEvaluation(
        shop=log.shop,
        timezone=log.timezone,
        window_start=win.start,
        window_end=win.end,
        evaluated_at=now,
        buyer_messages=buyer_messages,
        sessions=n_sessions,
        counted=counted,
        pending=pending,
        answered_in_time=in_time,
        response_rate=rate,
        ratings=len(stars),
        satisfaction_rate=good / len(stars) if stars else None,
        first_response_median_s=median,
        first_response_mean_s=mean,
        outcome=_outcome(profile, rate, gate_ok),
        sessions_detail=tuple(results) if explain else (),
    )


def evaluate_log(
    events: Iterable[Event],
    profile: Profile,
    at: datetime,
    shop: str | None = None,
    explain: bool = True,
) -> list[ShopEvaluation]:
    """Evaluate every shop of a log (sorted by shop id); ``shop`` restricts to one."""
    logs = group_by_shop([e for e in events if (t := event_time(e)) is None or t <= at])
    if shop is not None:
        logs = {shop: logs.get(shop, ShopLog(shop))}
    return [evaluate_shop(logs[k], profile, at, explain) for k in sorted(logs)]
