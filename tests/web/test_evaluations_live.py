"""Scheduled evaluations on the live system (EVAL-1, EV-8, PEN-2, MET-D2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from tests.web.conftest import Api

from shopdesk.jobs.evaluations import TIMER_KIND, ensure_scheduled, handle_timer, shop_log
from shopdesk.jobs.timers import TimerRunner
from shopdesk.policy.evaluate_reference import evaluate_log
from shopdesk.policy.jsonl import read_events
from shopdesk.policy.profiles import load_profile
from shopdesk.policy.report import shop_to_json
from shopdesk.store.events_export import export_events
from shopdesk.store.models import Evaluation, LedgerEntry, Shop

# Monday 2026-11-02 00:00 in Los Angeles is 08:00 UTC; shop "a" is evaluated (us profile)
# on Monday 2026-11-09 12:00 local = 20:00 UTC, over 2026-11-02..2026-11-09.
EVAL_AT = datetime(2026, 11, 9, 20, 0, tzinfo=UTC)


def week_of_chats(api: Api, answered: int, late: int) -> None:
    """Sessions in shop a, each with a different buyer conversation: some answered in
    time, some answered after 30 hours."""
    clock = api.client.app.state.clock  # type: ignore[attr-defined]
    clock.now = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # Monday 09:00 local
    convs = []
    for i in range(answered + late):
        buyer = "buyer1" if i % 2 == 0 else "buyer2"
        conv = api.open_conversation(buyer, "a")
        if conv not in convs:
            convs.append(conv)
    for i in range(answered + late):
        conv = convs[i % len(convs)]
        buyer = "buyer1" if i % 2 == 0 else "buyer2"
        assert api.send(buyer, conv, f"Question {i}: does the mug fit a dishwasher?"
                        ).status_code == 201
        clock.advance(hours=30 if i >= answered else 1)
        assert api.send("agent_a", conv, f"Answer {i}: yes, it is dishwasher safe."
                        ).status_code == 201
        clock.advance(hours=7)  # > 6 h of buyer silence: the session is over (EV-2)


def run_due(api: Api, at: datetime) -> None:
    app = api.client.app  # type: ignore[attr-defined]
    runner = TimerRunner(app.state.sessions, {TIMER_KIND: handle_timer}, name="test")
    runner.run_due(at)


def test_scheduled_evaluation_runs_once_and_matches_the_export(api: Api) -> None:
    app = api.client.app  # type: ignore[attr-defined]
    with app.state.sessions() as db, db.begin():
        # After Monday 2026-11-02 12:00 in both shops: next are the 9th's evaluations.
        assert ensure_scheduled(db, datetime(2026, 11, 2, 21, 0, tzinfo=UTC)) == 2
        assert ensure_scheduled(db, datetime(2026, 11, 2, 21, 0, tzinfo=UTC)) == 0
    week_of_chats(api, answered=4, late=1)
    run_due(api, EVAL_AT - timedelta(seconds=1))
    shop_a = api.world.shops["a"]
    with app.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Evaluation).where(
            Evaluation.shop_id == shop_a)) == 0
    # The server was down at 20:00 and comes back two days later: it catches up once.
    run_due(api, EVAL_AT + timedelta(days=2))
    run_due(api, EVAL_AT + timedelta(days=2, hours=1))
    with app.state.sessions() as db:
        evs = list(db.scalars(select(Evaluation).where(Evaluation.shop_id == shop_a)))
        assert len(evs) == 1
        ev = evs[0]
        assert ev.scheduled_for == EVAL_AT and ev.policy == "us"
        assert ev.policy_version.startswith("us@")
        # The same figures from the exported log through the CLI's engine path.
        lines = [json.dumps(e) for e in export_events(db, shop_ids=[shop_a])]
        cli = evaluate_log(read_events(lines).events, load_profile("us"), EVAL_AT,
                           shop=str(shop_a))
        assert shop_to_json(cli[0], explain=True) == ev.result
        assert ev.result["answered_in_time"] == 4 and ev.result["counted"] == 5
        assert ev.result["buyer_messages"] == 5
        assert ev.outcome == "violation"  # 80% < 85% (EV-11) with 5 buyer messages (EV-9)
        entries = list(db.scalars(select(LedgerEntry).where(LedgerEntry.shop_id == shop_a)))
        assert [(e.kind, e.evaluation_id) for e in entries] == [("violation", ev.id)]
        shop = db.get(Shop, shop_a)
        assert shop is not None and shop_log(db, shop, EVAL_AT).timezone == "America/Los_Angeles"


def test_diagnosis_shows_projection_with_deadlines(api: Api) -> None:
    clock = api.client.app.state.clock  # type: ignore[attr-defined]
    clock.now = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)  # Tuesday 09:00 local
    conv = api.open_conversation("buyer1", "a")
    api.send("buyer1", conv, "Can I change the colour of my order?")
    clock.advance(hours=5)
    d = api.get("agent_a", f"/api/v1/shops/{api.world.shops['a']}/diagnosis").json()
    proj = d["projection"]
    assert proj["pending"] == 1 and proj["response_rate"] is None
    [open_session] = proj["open_sessions"]
    assert open_session["conversation"] == str(conv)
    assert open_session["seconds_left"] == 19 * 3600
    assert d["latest"] is None
    assert api.get("agent_b", f"/api/v1/shops/{api.world.shops['a']}/diagnosis"
                   ).status_code == 404
