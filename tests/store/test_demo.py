"""The demo marketplace (CONTRACTS §6) and the history it carries (SPEC §1, §3, §5, §13)."""

from __future__ import annotations

import os
import subprocess
import sys
import time as clock
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopdesk.store.accounts import authenticate, create_user
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.demo import DemoRefused, DemoSummary, seed_demo
from shopdesk.store.demo_data import GREETINGS
from shopdesk.store.migrate import upgrade
from shopdesk.store.models import (
    BusinessHours,
    ChatbotSwitch,
    ClosedDate,
    Conversation,
    ConversationEvent,
    Membership,
    Message,
    OfflineTicket,
    Order,
    Product,
    Rating,
    Region,
    Shop,
    User,
    VacationPeriod,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
SHOPDESK = str(Path(sys.executable).with_name("shopdesk"))

CONTRACT_USERS = (
    ["staff1"]
    + [f"owner{i}" for i in range(1, 4)]
    + [f"admin{i}" for i in range(1, 4)]
    + [f"agent{i}" for i in range(1, 7)]
    + [f"buyer{i}" for i in range(1, 31)]
)
GREETING_TEXTS = {g for texts in GREETINGS.values() for g in texts}


@dataclass
class Seeded:
    url: str
    summary: DemoSummary
    seconds: float
    session: Session


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    upgrade(url)
    started = clock.process_time()  # CPU time: the machine may be shared
    summary = seed_demo(url, now=NOW)
    seconds = clock.process_time() - started
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        yield Seeded(url, summary, seconds, session)
    engine.dispose()


def _shops(db: Session) -> list[Shop]:
    return list(db.scalars(select(Shop).order_by(Shop.id)))


def _messages(db: Session) -> dict[int, list[Message]]:
    out: dict[int, list[Message]] = defaultdict(list)
    for m in db.scalars(select(Message).order_by(Message.conversation_id, Message.seq)):
        out[m.conversation_id].append(m)
    return out


def _sessions(msgs: list[Message]) -> list[list[Message]]:
    """Sessions as the demo lays them out: more than 72 h apart (SES-2, EV-2)."""
    sessions = [[msgs[0]]]
    for a, b in pairwise(msgs):
        if b.at - a.at > timedelta(hours=72):
            sessions.append([b])
        else:
            sessions[-1].append(b)
    return sessions


def _first_substantive(session: list[Message]) -> Message | None:
    return next((m for m in session if m.sender == "agent" and m.text not in GREETING_TEXTS),
                None)


# ------------------------------------------------------------------ accounts (CONTRACTS §6)
def test_seeding_is_fast_and_sized(demo: Seeded) -> None:
    assert demo.seconds < 10
    c = demo.summary.counts
    assert not demo.summary.reused
    assert 150 <= c["conversations"] <= 300
    assert 2000 <= c["messages"] <= 5000
    db = demo.session
    assert db.scalar(select(func.count()).select_from(Message)) == c["messages"]
    assert c["shops"] == 3


def test_every_contract_login_works_with_password_demo(demo: Seeded) -> None:
    db = demo.session
    users = {u.username: u for u in db.scalars(select(User))}
    assert set(CONTRACT_USERS) <= set(users)
    for name in ("staff1", "admin3", "agent4", "buyer30"):  # argon2 is slow: a few of each
        assert authenticate(db, name, "demo") is not None, name
    assert authenticate(db, "agent1", "wrong") is None
    shared = users["staff1"].password_hash
    for name in CONTRACT_USERS:  # one argon2 hash of "demo", shared by every account
        assert users[name].password_hash == shared
        assert users[name].is_demo and users[name].is_active
    assert all(u.is_demo for u in users.values())
    assert users["staff1"].kind == "staff"
    assert {users[f"buyer{i}"].kind for i in range(1, 31)} == {"buyer"}
    assert {users[n].kind for n in CONTRACT_USERS if n[:5] in ("owner", "admin", "agent")} == {
        "seller"}
    assert users["buyer1"].display_name != "buyer1"  # realistic names


def test_memberships_follow_the_shop_order(demo: Seeded) -> None:
    db = demo.session
    shops = _shops(db)
    assert len(shops) == 3
    expected = {
        shops[0].id: {"owner1": "owner", "admin1": "admin", "agent1": "agent", "agent2": "agent"},
        shops[1].id: {"owner2": "owner", "admin2": "admin", "agent3": "agent", "agent4": "agent"},
        shops[2].id: {"owner3": "owner", "admin3": "admin", "agent5": "agent", "agent6": "agent"},
    }
    rows = db.execute(select(Membership.shop_id, User.username, Membership.role).join(User))
    actual: dict[int, dict[str, str]] = defaultdict(dict)
    for shop_id, username, role in rows:
        actual[shop_id][username] = role
    assert actual == expected


def test_shops_regions_hours_and_products(demo: Seeded) -> None:
    db = demo.session
    shops = _shops(db)
    assert [s.timezone for s in shops] == ["America/Los_Angeles", "Europe/London",
                                           "Asia/Shanghai"]
    assert [s.listing_language for s in shops] == ["en", "en", "zh"]
    assert all(s.is_demo and s.name and s.greeting for s in shops)
    policies = {r.code: r.policy for r in db.scalars(select(Region))}
    assert policies["US"] == "us" and policies["CN-XB"] == "cross-border"
    assert db.get(Region, shops[2].region_id).policy == "cross-border"  # type: ignore[union-attr]
    for shop in shops:
        hours = list(db.scalars(select(BusinessHours).where(BusinessHours.shop_id == shop.id)))
        per_day: dict[int, int] = defaultdict(int)
        for h in hours:
            per_day[h.weekday] += 1
            assert h.opens < h.closes
        assert max(per_day.values()) >= 2  # several windows per weekday
        closed = list(db.scalars(select(ClosedDate).where(ClosedDate.shop_id == shop.id)))
        local_start = (NOW - timedelta(days=35)).astimezone(ZoneInfo(shop.timezone)).date()
        assert any(c.day >= local_start and c.day <= NOW.date() for c in closed)
        assert any(c.reason for c in closed)
    assert shops[1].id not in {h.shop_id for h in db.scalars(
        select(BusinessHours).where(BusinessHours.weekday >= 5))}  # London: weekends closed
    languages = {p.language for p in db.scalars(select(Product))}
    assert languages == {"en", "zh"}
    for p in db.scalars(select(Product)):
        assert {"cancel_before_shipping", "return_days", "refund_days",
                "return_shipping"} <= set(p.terms)
    orders = list(db.scalars(select(Order)))
    assert orders
    for o in orders:
        product = db.get(Product, o.product_id)
        assert product is not None and o.terms_snapshot == product.terms
        assert o.shop_id == product.shop_id and o.placed_at < NOW
        assert o.total_cents == o.quantity * product.price_cents
        # AS-6 counts from these instants: shipped orders have left, delivered ones arrived.
        if o.status in ("shipped", "delivered"):
            assert o.shipped_at is not None and o.placed_at < o.shipped_at < NOW
        else:
            assert o.shipped_at is None
        if o.status == "delivered":
            assert o.delivered_at is not None and o.shipped_at < o.delivered_at < NOW
        else:
            assert o.delivered_at is None


# ------------------------------------------------------------------ history
def test_conversations_are_consistent(demo: Seeded) -> None:
    db = demo.session
    by_conv = _messages(db)
    closes: dict[int, list[datetime]] = defaultdict(list)
    for ev in db.scalars(select(ConversationEvent).where(ConversationEvent.type == "close")):
        closes[ev.conversation_id].append(ev.at)
    team = {(m.shop_id, m.user_id): m.role for m in db.scalars(select(Membership))}
    buyers = {u.id for u in db.scalars(select(User).where(User.kind == "buyer"))}
    convs = list(db.scalars(select(Conversation)))
    assert len({(c.buyer_id, c.shop_id) for c in convs}) == len(convs)
    for conv in convs:
        msgs = by_conv[conv.id]
        if not msgs:  # opened for a case (demo cases post no chat notifications) or never used
            assert conv.last_seq == 0 and not conv.buyer_has_written
            continue
        assert [m.seq for m in msgs] == list(range(1, len(msgs) + 1))
        assert all(a.at < b.at for a, b in pairwise(msgs))
        assert conv.last_seq == len(msgs)
        assert conv.last_message_at == msgs[-1].at < NOW
        assert conv.buyer_has_written and msgs[0].sender == "buyer"
        assert conv.created_at <= msgs[0].at
        assert conv.buyer_id in buyers
        waiting: datetime | None = None
        timeline = sorted([(m.at, 0, m) for m in msgs] + [(t, 1, None) for t in closes[conv.id]],
                          key=lambda x: (x[0], x[1]))
        for _at, _kind, m in timeline:
            if m is None or m.sender == "agent":
                waiting = None
            elif m.sender == "buyer" and waiting is None:
                waiting = m.at
        assert conv.waiting_since == waiting, conv.id
        if conv.assigned_agent_id is not None:
            assert team[(conv.shop_id, conv.assigned_agent_id)] == "agent"
            assert conv.assigned_at is not None and conv.assigned_at < NOW
        for m in msgs:
            assert m.client_id is None
            if m.sender == "buyer":
                assert (m.sender_role, m.author_id) == ("buyer", conv.buyer_id)
            elif m.sender == "agent":
                assert m.author_id is not None
                assert team[(conv.shop_id, m.author_id)] == m.sender_role
            else:
                assert (m.sender, m.sender_role, m.author_id) == ("bot", "bot", None)
    waiting_convs = [c for c in convs if c.waiting_since is not None]
    assert any(c.assigned_agent_id is None for c in waiting_convs)
    assert any(c.assigned_agent_id is not None for c in waiting_convs)


def test_history_spans_five_weeks(demo: Seeded) -> None:
    db = demo.session
    first, last = db.execute(select(func.min(Message.at), func.max(Message.at))).one()
    assert first >= NOW - timedelta(days=35)
    assert first <= NOW - timedelta(days=33)
    assert NOW - timedelta(hours=12) < last < NOW
    assert demo.summary.history_from == first and demo.summary.history_to == last


def test_replies_late_unanswered_greeting_first_and_on_monday(demo: Seeded) -> None:
    db = demo.session
    shops = {s.id: s for s in _shops(db)}
    conv_shop = {c: s for c, s in db.execute(select(Conversation.id, Conversation.shop_id))}
    late = quick = unanswered = greeting_first = weekend_gap = multi_session = 0
    for conv_id, msgs in _messages(db).items():
        sessions = _sessions(msgs)
        multi_session += len(sessions) > 1
        tz = ZoneInfo(shops[conv_shop[conv_id]].timezone)
        for s in sessions:
            reply = _first_substantive(s)
            if reply is None:
                unanswered += all(m.sender == "buyer" for m in s)
                continue
            delay = reply.at - s[0].at
            late += delay > timedelta(hours=24)
            quick += delay < timedelta(hours=2)
            first_agent = next(m for m in s if m.sender == "agent")
            greeting_first += first_agent is not reply
            start, answered = s[0].at.astimezone(tz), reply.at.astimezone(tz)
            weekend_gap += start.weekday() >= 5 and answered.weekday() == 0
    assert late >= 10 and quick > 3 * late  # mostly within hours, some late
    assert unanswered >= 3
    assert greeting_first >= 10
    assert weekend_gap >= 5
    assert multi_session >= 50


def test_buyers_write_mostly_in_business_hours(demo: Seeded) -> None:
    from shopdesk.chat.hours import Hours, Window

    db = demo.session
    inside = total = 0
    for shop in _shops(db):
        windows = tuple(Window(h.weekday, h.opens, h.closes) for h in db.scalars(
            select(BusinessHours).where(BusinessHours.shop_id == shop.id)))
        closed = frozenset(c.day for c in db.scalars(
            select(ClosedDate).where(ClosedDate.shop_id == shop.id)))
        hours = Hours(shop.timezone, windows, closed)
        for at in db.scalars(select(Message.at).join(Conversation).where(
                Conversation.shop_id == shop.id, Message.sender == "buyer")):
            total += 1
            inside += hours.is_open(at)
    assert 0.5 < inside / total < 0.95


def test_chatbot_handoffs_and_closes(demo: Seeded) -> None:
    db = demo.session
    shops = _shops(db)
    assert [s.chatbot_enabled for s in shops] == [True, False, True]
    switches: dict[int, list[ChatbotSwitch]] = defaultdict(list)
    for sw in db.scalars(select(ChatbotSwitch).order_by(ChatbotSwitch.at)):
        switches[sw.shop_id].append(sw)
    assert len(switches[shops[2].id]) >= 2  # switched on during the history, with a past

    def bot_on(shop_id: int, at: datetime) -> bool:
        state = False
        for sw in switches[shop_id]:
            if sw.at <= at:
                state = sw.enabled
        return state

    conv_shop = {c: s for c, s in db.execute(select(Conversation.id, Conversation.shop_id))}
    bots = list(db.scalars(select(Message).where(Message.sender == "bot")))
    assert len(bots) >= 50
    assert all(bot_on(conv_shop[m.conversation_id], m.at) for m in bots)
    assert {conv_shop[m.conversation_id] for m in bots} == {shops[0].id, shops[2].id}
    events = list(db.scalars(select(ConversationEvent)))
    handoffs = [e for e in events if e.type == "handoff"]
    closes = [e for e in events if e.type == "close"]
    assert len(handoffs) >= 10 and all(e.data == {} for e in handoffs)
    assert len(closes) >= 10 and all(e.data == {"by": "seller"} for e in closes)
    # bot-only sessions: the bot had the last word (EV-4)
    bot_only = sum(1 for msgs in _messages(db).values() for s in _sessions(msgs)
                   if s[-1].sender == "bot" and not any(m.sender == "agent" for m in s))
    assert bot_only >= 10


def test_ratings_vacation_tickets_and_chinese(demo: Seeded) -> None:
    db = demo.session
    shops = _shops(db)
    stars = [r.stars for r in db.scalars(select(Rating))]
    assert set(stars) == {1, 2, 3, 4, 5}
    assert sum(s >= 4 for s in stars) / len(stars) > 0.6
    for r in db.scalars(select(Rating)):
        conv = db.get(Conversation, r.conversation_id)
        assert conv is not None and r.buyer_id == conv.buyer_id and r.at < NOW
    vacations = list(db.scalars(select(VacationPeriod)))
    assert len(vacations) == 1
    vac = vacations[0]
    assert vac.end is not None and NOW - timedelta(days=35) < vac.start < vac.end < NOW
    in_vacation = db.scalar(select(func.count()).select_from(Message).join(Conversation).where(
        Conversation.shop_id == vac.shop_id, Message.sender == "buyer",
        Message.at >= vac.start, Message.at < vac.end))
    assert in_vacation
    assert not any(s.vacation_mode for s in shops)
    tickets = list(db.scalars(select(OfflineTicket)))
    assert 3 <= len(tickets) <= 30
    assert {t.status for t in tickets} <= {"open", "handled"}
    chinese = list(db.scalars(select(Message).join(Conversation).where(
        Conversation.shop_id == shops[2].id, Message.text.like("%您好%") | Message.text.like(
            "%谢谢%") | Message.text.like("%订单%"))))
    assert len(chinese) >= 10


# ------------------------------------------------------------------ idempotence and refusal
def test_second_run_reuses_the_demo(demo: Seeded) -> None:
    again = seed_demo(demo.url, now=NOW + timedelta(days=3))
    assert again.reused
    assert again.counts == demo.summary.counts
    assert again.logins == demo.summary.logins
    assert "buyer1–buyer30" in again.logins["buyers"]
    assert "Reused" in again.describe()


def test_same_now_gives_the_same_history(demo: Seeded, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    upgrade(url)
    twin = seed_demo(url, now=NOW)
    assert twin.counts == demo.summary.counts
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        rows = db.execute(select(Message.conversation_id, Message.seq, Message.at,
                                 Message.text).order_by(Message.id)).all()
    engine.dispose()
    ours = demo.session.execute(select(Message.conversation_id, Message.seq, Message.at,
                                       Message.text).order_by(Message.id)).all()
    assert rows == ours


def test_refuses_a_database_with_real_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as db, db.begin():
        create_user(db, username="alice", password="secret-pw", kind="buyer", now=NOW)
    with pytest.raises(DemoRefused, match="non-demo users"):
        seed_demo(url, now=NOW)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1
        assert db.scalar(select(func.count()).select_from(Shop)) == 0
        assert db.scalar(select(func.count()).select_from(Region)) == 0
    engine.dispose()


def test_cli_demo_seed_only(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    env["COLUMNS"] = "200"
    r = subprocess.run([SHOPDESK, "demo", "--data-dir", str(tmp_path), "--seed-only",
                        "--port", "8123"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for text in ("staff1", "owner1–owner3", "admin1–admin3", "agent1–agent2", "agent5–agent6",
                 "buyer1–buyer30", "http://127.0.0.1:8123/"):
        assert text in r.stdout, text
    assert "Created a demo marketplace" in r.stdout
    assert (tmp_path / "demo.db").exists()
