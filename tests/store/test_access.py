"""Tenant isolation has one rule per kind of record: `sees_conversation` (used by the send
path's batches, which read their conversations in one query) must agree with
`conversation_filter` (every conversation query) for every kind of actor."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from shopdesk.store.access import Actor, conversation_filter, sees_conversation
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.migrate import upgrade
from shopdesk.store.models import Conversation, Region, Shop, User
from tests.web.conftest import database_url, private_postgres  # noqa: F401  (fixtures)

AT = datetime(2026, 11, 23, tzinfo=UTC)


def test_sees_conversation_agrees_with_conversation_filter(database_url: str) -> None:  # noqa: F811
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as db, db.begin():
        region = Region(code="US", name="United States", country="US", policy="us")
        db.add(region)
        db.flush()
        shops = [Shop(region_id=region.id, name=f"S{i}", timezone="UTC",
                      listing_language="en", created_at=AT) for i in range(3)]
        buyers = [User(username=f"b{i}", display_name="B", password_hash="x", kind="buyer",
                       created_at=AT) for i in range(3)]
        db.add_all([*shops, *buyers])
        db.flush()
        convs = [Conversation(shop_id=s.id, buyer_id=b.id, created_at=AT, last_seq=0)
                 for s in shops for b in buyers if (s.id + b.id) % 3 != 1]
        db.add_all(convs)
        db.flush()
        s0, s1, s2 = (s.id for s in shops)
        actors = [
            Actor(buyers[0].id, "b0", "buyer"),
            Actor(buyers[1].id, "b1", "buyer"),
            Actor(9_999, "nobody", "buyer"),
            Actor(9_001, "agent", "seller", {s0: "agent"}),
            Actor(9_002, "admin", "seller", {s0: "admin", s2: "owner"}),
            Actor(9_003, "left", "seller", {}),
            Actor(9_004, "staff", "staff"),
        ]
        seen_by_someone = set()
        for actor in actors:
            by_sql = set(db.scalars(select(Conversation.id).where(conversation_filter(actor))))
            by_rule = {c.id for c in convs if sees_conversation(actor, c.shop_id, c.buyer_id)}
            assert by_sql == by_rule, actor.username
            seen_by_someone |= by_rule
        # Not a vacuous agreement: some actors see some conversations and not others.
        assert seen_by_someone == {c.id for c in convs}
        assert any(
            0 < sum(sees_conversation(a, c.shop_id, c.buyer_id) for c in convs) < len(convs)
            for a in actors
        )
        assert s1 not in {s for a in actors[3:6] for s in a.shop_roles}
