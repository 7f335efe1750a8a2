"""Casework API: refusals (409 with what is allowed and by whom), tenant isolation, evidence
files, timeline, notifications, timers that fire once across restarts, complaint analytics."""

from __future__ import annotations

import csv
import io
import threading
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.support.world import FakeClock
from tests.web.conftest import Api
from tests.web.test_casework_flows import (
    act,
    escalated_dispute,
    fm_body,
    open_aftersales,
    open_complaint,
    open_ticket,
    play,
    png,
    run_timers,
)

from shopdesk.config import Settings
from shopdesk.jobs.registry import handlers
from shopdesk.jobs.timers import TimerRunner
from shopdesk.store.models import Attachment, Timer
from shopdesk.store.models_casework import CaseEvent
from shopdesk.web.app import create_app

API = "/api/v1"


def count(api: Api, model: Any) -> int:
    with api.client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_refusals_say_what_is_allowed_and_tenants_are_isolated(api: Api, clock: FakeClock) -> None:
    case = open_aftersales(api, clock)
    # The wrong role: 409 naming the allowed actions and their roles.
    r = api.post("buyer1", f"{API}/cases/{case}/actions", {"action": "accept"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "role_not_allowed"
    assert "Allowed now: accept by seller_admin/seller_agent/seller_owner" in body["message"]
    assert {"action": "withdraw", "roles": ["buyer"], "guard": ""} in body["allowed"]
    # Illegal in this state, and a failed guard.
    r = api.post(
        "agent_a",
        f"{API}/cases/{case}/actions",
        {"action": "complete", "params": {"resolution": "x"}},
    )
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition", r.text
    r = api.post("agent_a", f"{API}/cases/{case}/actions", {"action": "reject"})
    assert r.status_code == 409 and r.json()["code"] == "guard_failed", r.text
    assert "reason" in r.json()["message"]
    r = api.post("agent_a", f"{API}/cases/{case}/actions", {"action": "fly"})
    assert r.status_code == 409 and "not an action of this process" in r.json()["message"]
    # A stale version is refused.
    r = api.post("agent_a", f"{API}/cases/{case}/actions", {"action": "accept", "version": 0})
    assert r.status_code == 409 and r.json()["code"] == "version_conflict", r.text
    # Bad input is 422.
    r = api.post(
        "buyer1",
        f"{API}/aftersales",
        {"order": api.world.orders["a1"], "kind": "teleport", "reason": "x"},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_input", r.text
    # The other tenant sees nothing: 404 exactly like a missing case.
    missing = api.get("owner_b", f"{API}/cases/999999")
    for who in ("owner_b", "admin_b", "agent_b", "buyer2"):
        r = api.get(who, f"{API}/cases/{case}")
        assert (r.status_code, r.json()) == (missing.status_code, missing.json()), who
        r = api.post(who, f"{API}/cases/{case}/actions", {"action": "accept"})
        assert r.status_code == 404, r.text
        assert api.get(who, f"{API}/cases").json() == []
        r = api.get(who, f"{API}/cases/{case}/timeline")
        assert r.status_code == 404
    r = api.post(
        "buyer2",
        f"{API}/aftersales",
        {"order": api.world.orders["a1"], "kind": "refund_only", "reason": "x"},
    )
    assert r.status_code == 404, r.text
    assert [c["id"] for c in api.get("agent_a", f"{API}/cases").json()] == [case]
    # Too late: the response deadline passed (its timer has not run yet).
    clock.advance(days=6)
    r = api.post("agent_a", f"{API}/cases/{case}/actions", {"action": "accept"})
    assert r.status_code == 409 and r.json()["code"] == "too_late", r.text
    assert "seller_response" in r.json()["message"]
    assert "accept" not in [a["action"] for a in r.json()["allowed"]]
    # Force majeure: an agent may not withdraw; a screenshot is no proof (FM-4).
    ticket = open_ticket(api, "owner_a", "force_majeure")
    r = api.post(
        "owner_a",
        f"{API}/force-majeure",
        fm_body(api, clock, ticket, file_name="screenshot-of-news.png"),
    )
    assert r.status_code == 422 and "screenshot" in r.json()["message"], r.text
    r = api.post("owner_a", f"{API}/force-majeure", fm_body(api, clock, ticket))
    assert r.status_code == 201, r.text
    fm = r.json()["id"]
    r = api.post("agent_a", f"{API}/cases/{fm}/actions", {"action": "withdraw"})
    assert r.status_code == 409 and "seller_admin/seller_owner" in r.json()["message"]
    r = api.post("owner_b", f"{API}/force-majeure", fm_body(api, clock, ticket))
    assert r.status_code == 404, r.text
    # Complaint analytics are for staff only.
    r = api.get("owner_a", f"{API}/casework/complaints/stats")
    assert r.status_code == 403 and r.json()["code"] == "staff_only"


def test_evidence_files_timeline_and_notifications(
    api: Api, clock: FakeClock, settings: Settings
) -> None:
    frames: list[tuple[list[int], dict[str, Any]]] = []

    class Recorder:
        async def publish(self, users: Any, frame: dict[str, Any]) -> None:
            frames.append((sorted(users), frame))

    app: Any = api.client.app
    real_broker, app.state.broker = app.state.broker, Recorder()
    try:
        dispute = escalated_dispute(api, clock)
    finally:
        app.state.broker = real_broker
    users = api.world.users
    # Platform messages in the buyer's conversation with the shop, pushed on the WebSocket.
    conv = api.get("buyer1", f"{API}/cases/{dispute}").json()["conversation"]
    texts = [
        m["text"]
        for m in api.get("buyer1", f"{API}/conversations/{conv}/messages").json()
        if m["sender"] == "platform"
    ]
    assert texts[0].startswith("Your after-sales request #") and "was opened" in texts[0]
    assert any("was rejected" in t for t in texts)
    assert texts[-1] == f"Your dispute #{dispute} was opened; it is now collecting evidence."
    pushed = [f for _, f in frames if f["type"] == "message"]
    assert [f["message"]["text"] for f in pushed] == texts
    assert all(users["buyer1"] in who and users["agent_a"] in who for who, _ in frames)
    assert users["owner_b"] not in frames[0][0]
    # Evidence with a file: the chat attachment checks; nothing stored when refused.
    files_dir = settings.attachments_dir
    before_rows, before_files = count(api, Attachment), sorted(files_dir.rglob("*"))
    path = f"{API}/cases/{dispute}/attachments"
    r = api.client.post(
        path,
        headers=api.as_("buyer1"),
        data={"evidence_id": "bad"},
        files={"file": ("x.png", b"not an image at all", "image/png")},
    )
    assert r.status_code == 422 and r.json()["code"] == "unsupported_type", r.text
    big = b"\x89PNG" + b"0" * (settings.max_attachment_bytes + 10)
    r = api.client.post(path, headers=api.as_("buyer1"), files={"file": ("b.png", big)})
    assert r.status_code == 413 and r.json()["code"] == "file_too_large", r.text
    r = api.client.post(path, headers=api.as_("owner_b"), files={"file": ("p.png", png())})
    assert r.status_code == 404, r.text
    assert count(api, Attachment) == before_rows
    assert sorted(files_dir.rglob("*")) == before_files
    r = api.client.post(
        path,
        headers=api.as_("buyer1"),
        data={"evidence_id": "photo-1", "text": "The crack"},
        files={"file": ("crack.png", png((8, 8)), "image/png")},
    )
    assert r.status_code == 201, r.text
    att = r.json()["attachment"]
    evidence = r.json()["data"]["evidence"]
    assert evidence[-1]["id"] == "photo-1" and evidence[-1]["attachment"]["id"] == str(att)
    assert any(e["auto"] and e["source"] == "first_request" for e in evidence)  # DSP-2
    for who, status in (("agent_a", 200), ("staff", 200), ("owner_b", 404), ("buyer2", 404)):
        assert api.get(who, f"{path}/{att}").status_code == status, who
    # The same evidence id twice is refused, and leaves no file row behind.
    rows = count(api, Attachment)
    r = api.client.post(
        path,
        headers=api.as_("agent_a"),
        data={"evidence_id": "photo-1"},
        files={"file": ("c.png", png((9, 9)), "image/png")},
    )
    assert r.status_code == 422, r.text
    assert count(api, Attachment) == rows
    # The timeline: every event, who and when.
    timeline = api.get("agent_a", f"{API}/cases/{dispute}/timeline").json()
    assert [(e["action"], e["role"], e["actor"]) for e in timeline] == [
        ("open", "buyer", users["buyer1"]),
        ("add_evidence", "buyer", users["buyer1"]),
    ]
    assert timeline[0]["at"] == clock().isoformat().replace("+00:00", "Z")
    # A case without a conversation notifies its parties on the WebSocket only.
    app.state.broker = Recorder()
    try:
        complaint = open_complaint(api, "owner_a", shop=api.world.shops["a"])
        act(api, "staff", complaint, "acknowledge")
    finally:
        app.state.broker = real_broker
    case_frames = [(who, f) for who, f in frames if f["type"] == "case"]
    assert [f["action"] for _, f in case_frames] == ["open", "acknowledge"]
    assert users["owner_a"] in case_frames[0][0] and users["buyer1"] not in case_frames[0][0]


def test_deadlines_fire_exactly_once_across_restarts(
    api: Api, clock: FakeClock, settings: Settings
) -> None:
    case = open_aftersales(api, clock)
    clock.advance(days=6)  # the response deadline is due; the first server dies before firing
    app2 = create_app(settings, clock=clock, screener=None)
    with TestClient(app2):
        sessions = app2.state.sessions
        if settings.resolved_database_url().startswith("postgresql"):
            # Several processes at once: row claiming lets exactly one fire it.
            reports: list[int] = []

            def run(i: int) -> None:
                reports.append(
                    TimerRunner(sessions, handlers(), name=f"p{i}").run_due(clock()).fired
                )

            threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(reports) == [0, 0, 1]
        else:
            assert TimerRunner(sessions, handlers(), name="restarted").run_due(clock()).fired
        # Another restart later: nothing fires twice.
        assert TimerRunner(sessions, handlers(), name="again").run_due(clock()).fired == 0
    assert run_timers(api, clock).fired == 0
    timeline = api.get("staff", f"{API}/cases/{case}/timeline").json()
    assert [e["action"] for e in timeline] == ["open", "miss_seller_response"]
    with api.client.app.state.sessions() as db:  # type: ignore[attr-defined]
        fired = db.scalars(select(Timer).where(Timer.key.like(f"case:{case}:%"))).all()
        assert [(t.fired_at is not None, t.attempts) for t in fired] == [(True, 1)]
        assert (
            db.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case, CaseEvent.action == "miss_seller_response")
            )
            == 1
        )
    # The server's own timer loop (a real process would run it every few seconds).
    looped = open_aftersales(api, clock)
    clock.advance(days=6)
    fast = settings.model_copy(update={"timer_interval_seconds": 0.05})
    app3 = create_app(fast, clock=clock, screener=None, run_timers=True)
    with TestClient(app3):
        assert app3.state.timer_loop is not None
        deadline = time.monotonic() + 30
        while api.get("staff", f"{API}/cases/{looped}").json()["state"] != "escalated":
            assert time.monotonic() < deadline, "the timer loop did not fire the deadline"
            time.sleep(0.05)
    assert api.client.app.state.timer_loop is None  # type: ignore[attr-defined]
    # A cancelled deadline never fires: the seller answered in time.
    other = open_aftersales(api, clock)
    act(api, "agent_a", other, "accept")
    clock.advance(days=6)
    run_timers(api, clock)
    assert api.get("staff", f"{API}/cases/{other}").json()["state"] == "in_progress"


def test_complaint_analytics_and_csv(api: Api, clock: FakeClock) -> None:
    start = clock()
    fast = open_complaint(api, channel="email")
    play(
        api,
        clock,
        fast,
        [
            ("staff", "triage", {"category": "logistics", "nature": "simple"}, "received"),
            ("advance", {"hours": 1}),
            ("staff", "acknowledge", {}, "acknowledged"),
            ("staff", "assign", {"team": "logistics"}, "investigating"),
            ("staff", "propose_resolution", {"resolution": "Refund"}, "awaiting_confirmation"),
            ("buyer1", "reopen", {"reason": "No"}, "investigating"),
            ("advance", {"hours": 2}),
            ("staff", "propose_resolution", {"resolution": "Refund"}, "awaiting_confirmation"),
            ("buyer1", "confirm", {"satisfaction": 5}, "resolved"),
        ],
    )
    slow = open_complaint(api, channel="phone")
    play(
        api,
        clock,
        slow,
        [
            ("advance", {"hours": 3}),
            ("staff", "acknowledge", {}, "acknowledged"),
            ("staff", "triage", {"category": "fraud", "nature": "simple"}, "acknowledged"),
        ],
    )
    open_complaint(api)
    params = {"start": start.isoformat(), "end": clock().isoformat().replace("+00:00", "Z")}
    clock.advance(hours=1)
    r = api.get("staff", f"{API}/casework/complaints/stats", params=params)
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["total"] == 2  # the third arrived at the end instant: [start, end)
    assert stats["by_channel"] == {"email": 1, "phone": 1}
    assert stats["by_category"] == {"fraud": 1, "logistics": 1}
    assert stats["time_to_acknowledge"] == {"count": 2, "median_s": 2 * 3600.0, "p90_s": 3 * 3600.0}
    assert stats["time_to_resolve"] == {"count": 1, "median_s": 3 * 3600.0, "p90_s": 3 * 3600.0}
    assert stats["reopen_rate"] == 1.0 and stats["satisfaction_mean"] == 5.0
    r = api.get("staff", f"{API}/casework/complaints/stats.csv", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(x["id"]) for x in rows] == [fast, slow]
    assert rows[0]["hours_to_resolve"] == "3.00" and rows[0]["reopen_count"] == "1"
    assert rows[1]["channel"] == "phone" and rows[1]["resolved_at"] == ""
    r = api.get(
        "staff",
        f"{API}/casework/complaints/stats",
        params={"start": params["end"], "end": params["start"]},
    )
    assert r.status_code == 422
    assert api.get("buyer1", f"{API}/casework/complaints/stats.csv").status_code == 403
