"""Scheduled evaluations (EVAL-1/2, EV-8) on the live system, durable and exactly once.

The server feeds the engine the very log `shopdesk export-events` writes, so an evaluation
of the export equals what the server stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopdesk.jobs.timers import arm
from shopdesk.policy.evaluate_reference import evaluate_shop
from shopdesk.policy.events import ShopLog, group_by_shop
from shopdesk.policy.jsonl import read_events
from shopdesk.policy.localtime import window_for
from shopdesk.policy.penalties import PenaltySettings, for_outcome
from shopdesk.policy.profiles import Profile, load_profile
from shopdesk.policy.report import ShopEvaluation, shop_to_json
from shopdesk.store import ledger
from shopdesk.store.events_export import export_events
from shopdesk.store.models import Evaluation, LedgerEntry, Region, Shop, Timer

TIMER_KIND = "evaluation"


def policy_of(session: Session, shop: Shop) -> str:
    region = session.get(Region, shop.region_id)
    return region.policy if region is not None else "us"


def policy_version(profile: Profile) -> str:
    """Stored with each evaluation so a later change of the profile is visible."""
    return f"{profile.name}@{hashlib.sha256(repr(profile).encode()).hexdigest()[:12]}"


def shop_log(session: Session, shop: Shop, until: datetime) -> ShopLog:
    lines = (json.dumps(e) for e in export_events(session, shop_ids=[shop.id], until=until))
    logs = group_by_shop(read_events(lines).events)
    return logs.get(str(shop.id), ShopLog(str(shop.id), shop.timezone))


def next_scheduled(profile: Profile, timezone: str, after: datetime) -> datetime:
    """The first scheduled evaluation instant strictly after `after` (shop-local, EV-8)."""
    tz = ZoneInfo(timezone)
    probe = after
    for _ in range(64):
        probe += timedelta(days=1)
        instant = window_for(profile, tz, probe).evaluated_at
        if instant > after:
            return instant
    raise RuntimeError("no scheduled evaluation within 64 days; check the profile's schedule")


def timer_key(shop_id: int, policy: str, instant: datetime) -> str:
    return f"evaluation:{shop_id}:{policy}:{instant.isoformat()}"


def ensure_scheduled(session: Session, now: datetime) -> int:
    """Arm every shop's next evaluation (idempotent: keys are the scheduled instants)."""
    armed = 0
    for shop in session.scalars(select(Shop)):
        policy = policy_of(session, shop)
        instant = next_scheduled(load_profile(policy), shop.timezone, now)
        key = timer_key(shop.id, policy, instant)
        if session.scalars(select(Timer.id).where(Timer.key == key)).first() is None:
            arm(session, kind=TIMER_KIND, key=key, due_at=instant, now=now,
                payload={"shop": shop.id, "policy": policy, "at": instant.isoformat()})
            armed += 1
    return armed


def backfill(session: Session, since: datetime, now: datetime) -> int:
    """Run every scheduled evaluation between `since` and `now`, oldest first (demo data, or a
    shop that joined with history), then arm the next ones."""
    done = 0
    for shop in list(session.scalars(select(Shop).order_by(Shop.id))):
        policy = policy_of(session, shop)
        profile = load_profile(policy)
        instant = next_scheduled(profile, shop.timezone, since)
        while instant <= now:
            run_evaluation(session, shop, policy, instant, now)
            done += 1
            instant = next_scheduled(profile, shop.timezone, instant)
    ensure_scheduled(session, now)
    return done


def _previous_outcomes(session: Session, shop_id: int, policy: str, before: datetime
                       ) -> list[str]:
    """Earlier outcomes, oldest first; a violation whose entry was reversed does not count."""
    reversed_evals = set(session.scalars(
        select(LedgerEntry.evaluation_id).where(
            LedgerEntry.id.in_(ledger.reversed_ids(session, shop_id)))))
    rows = session.scalars(select(Evaluation).where(
        Evaluation.shop_id == shop_id, Evaluation.policy == policy,
        Evaluation.scheduled_for < before).order_by(Evaluation.scheduled_for))
    return ["ok" if e.id in reversed_evals else e.outcome for e in rows]


def run_evaluation(session: Session, shop: Shop, policy: str, at: datetime, now: datetime,
                   penalties: PenaltySettings | None = None) -> Evaluation:
    """Compute, store and penalise one scheduled evaluation; a second run returns the first."""
    existing = session.scalars(select(Evaluation).where(
        Evaluation.shop_id == shop.id, Evaluation.policy == policy,
        Evaluation.scheduled_for == at)).first()
    if existing is not None:
        return existing
    profile = load_profile(policy)
    result = evaluate_shop(shop_log(session, shop, at), profile, at, explain=True)
    evaluation = Evaluation(
        shop_id=shop.id, policy=policy, policy_version=policy_version(profile),
        scheduled_for=at, window_start=result.window_start, window_end=result.window_end,
        computed_at=now, outcome=result.outcome, response_rate=result.response_rate,
        satisfaction_rate=result.satisfaction_rate,
        result=shop_to_json(result, explain=True),
    )
    previous = _previous_outcomes(session, shop.id, policy, at)
    try:
        with session.begin_nested():
            session.add(evaluation)
    except IntegrityError:  # another process stored it first
        return session.scalars(select(Evaluation).where(
            Evaluation.shop_id == shop.id, Evaluation.policy == policy,
            Evaluation.scheduled_for == at)).one()
    decision = for_outcome(result.outcome, result.response_rate, previous,
                           penalties or PenaltySettings())
    if decision is not None:
        ledger.append(session, shop.id, decision, now, evaluation_id=evaluation.id)
    return evaluation


def handle_timer(session: Session, timer: Timer, now: datetime) -> None:
    shop = session.get(Shop, int(timer.payload["shop"]))
    if shop is None:
        return  # the shop is gone; nothing to evaluate
    policy = str(timer.payload["policy"])
    at = datetime.fromisoformat(str(timer.payload["at"]))
    run_evaluation(session, shop, policy, at, now)
    following = next_scheduled(load_profile(policy), shop.timezone, at)
    arm(session, kind=TIMER_KIND, key=timer_key(shop.id, policy, following), due_at=following,
        now=now, payload={"shop": shop.id, "policy": policy, "at": following.isoformat()})


def projected_outcome(profile: Profile, rate: float | None, buyer_messages: int) -> str:
    """EV-9/EV-11 on projected figures (the engine's own outcome assumed the window closed)."""
    if rate is None or buyer_messages < profile.gate_min_buyer_messages:
        return "not_evaluated"
    if rate < profile.violation_below:
        return "violation"
    return "warning" if rate < profile.warning_below else "ok"


def projection(session: Session, shop: Shop, now: datetime) -> dict[str, Any]:
    """The current window as if evaluated now: open sessions whose deadline has not passed
    are pending, not late (MET-D2: each with its deadline and time left)."""
    policy = policy_of(session, shop)
    profile = load_profile(policy)
    upcoming = next_scheduled(profile, shop.timezone, now)
    result: ShopEvaluation = evaluate_shop(shop_log(session, shop, now), profile, upcoming,
                                           explain=True)
    detail = []
    pending = answered = counted = 0
    for s in result.sessions_detail:
        status = s.status
        if status in ("unanswered", "pending") and s.deadline > now:
            status = "pending"
        if status in ("answered_in_time", "late", "unanswered", "pending"):
            counted += 1
            pending += status == "pending"
            answered += status == "answered_in_time"
        detail.append(replace(s, status=status))
    decided = counted - pending
    rate = answered / decided if decided else None
    projected = replace(result, sessions_detail=tuple(detail), pending=pending,
                        counted=counted, answered_in_time=answered, response_rate=rate,
                        outcome=projected_outcome(profile, rate, result.buyer_messages))
    out = shop_to_json(projected, explain=True)
    out["policy"] = policy
    out["as_of"] = now.isoformat().replace("+00:00", "Z")
    out["open_sessions"] = sorted(
        ({"conversation": s.conversation, "deadline": s.deadline.isoformat(),
          "seconds_left": int((s.deadline - now).total_seconds())}
         for s in detail if s.status == "pending"),
        key=lambda x: x["seconds_left"],
    )
    return out
