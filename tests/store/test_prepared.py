"""Prepared statements (`store.prepared`) give what `Connection.execute` gives, in the
session's transaction, with SQLAlchemy's exceptions — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.migrate import upgrade
from shopdesk.store.models import Message, Region, Shop, User
from shopdesk.store.prepared import PreparedCache, Statement, load_into
from tests.web.conftest import database_url, private_postgres  # noqa: F401  (fixtures)

AT = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)
INSERT = Statement(
    Message.__table__.insert().returning(Message.__table__.c.id),
    ("conversation_id", "seq", "at", "sender", "sender_role", "author_id", "kind", "text",
     "payload", "client_id", "screening"),
)
BY_ID = Statement(select(Message.id, Message.at, Message.payload, Message.screening)
                  .where(Message.id == bindparam("id")))


def _world(url: str) -> tuple[object, int, int]:
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db, db.begin():
        region = Region(code="US", name="United States", country="US", policy="us")
        db.add(region)
        db.flush()
        shop = Shop(region_id=region.id, name="S", timezone="UTC", listing_language="en",
                    created_at=AT)
        buyer = User(username="b", display_name="B", password_hash="x", kind="buyer",
                     created_at=AT)
        db.add_all([shop, buyer])
        db.flush()
        from shopdesk.store.models import Conversation

        conv = Conversation(shop_id=shop.id, buyer_id=buyer.id, created_at=AT, last_seq=0)
        db.add(conv)
        db.flush()
        return engine, conv.id, buyer.id


def _values(conv: int, author: int, client_id: str, payload: object, seq: int = 1
            ) -> dict[str, object]:
    return {"conversation_id": conv, "seq": seq, "at": AT, "sender": "buyer",
            "sender_role": "buyer", "author_id": author, "kind": "text", "text": "hi",
            "payload": payload, "client_id": client_id, "screening": None}


def test_rows_and_types_match_sqlalchemy(database_url: str) -> None:  # noqa: F811
    engine, conv, author = _world(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as db, db.begin():
        connection = db.connection()
        row = INSERT.first(connection, _values(conv, author, "c1", {"kb": {"entry": 3}}))
        assert row is not None
        got = BY_ID.first(connection, {"id": row[0]})
        expected = connection.execute(BY_ID.statement, {"id": row[0]}).one()
        assert got == tuple(expected)
        assert got is not None and got[1] == AT and got[1].tzinfo is not None
        assert got[2] == {"kb": {"entry": 3}} and got[3] is None
        # Stored exactly as SQLAlchemy stores it (SQLite keeps datetimes and JSON as text).
        core = connection.execute(INSERT.statement, _values(conv, author, "c0",
                                                             {"kb": {"entry": 3}}, 2)).scalar_one()
        raw = connection.exec_driver_sql(
            f"SELECT at, payload FROM messages WHERE id IN ({row[0]}, {core}) ORDER BY id"
        ).all()
        assert raw[0] == raw[1]
        # The ORM sees the row written in the same transaction.
        assert db.get(Message, row[0]) is not None
    with sessions() as db:  # and it was committed with the session
        assert db.scalar(select(Message.text).where(Message.id == row[0])) == "hi"


def test_a_duplicate_raises_sqlalchemys_integrity_error(database_url: str) -> None:  # noqa: F811
    engine, conv, author = _world(database_url)
    with make_sessionmaker(engine)() as db:
        with db.begin():
            INSERT.first(db.connection(), _values(conv, author, "dup", None))
        with pytest.raises(IntegrityError), db.begin():
            INSERT.first(db.connection(), _values(conv, author, "dup", None, 2))
        # The session is usable again after the rollback.
        assert db.scalar(select(Message.id).where(Message.client_id == "dup")) is not None


def test_values_bound_at_build_time_are_kept_per_key(database_url: str) -> None:  # noqa: F811
    engine, _conv, _author = _world(database_url)
    by_shops = PreparedCache(lambda ids: select(Shop.id).where(Shop.id.in_(ids)))
    with make_sessionmaker(engine)() as db, db.begin():
        connection = db.connection()
        shop = db.scalar(select(Shop.id))
        hit = by_shops.get(connection.dialect, (shop,), [shop]).all(connection, {})
        miss = by_shops.get(connection.dialect, (-1, -2), [-1, -2]).all(connection, {})
        assert hit == [(shop,)] and miss == []


def test_instances_loaded_into_a_session_behave_as_if_queried(
    database_url: str,  # noqa: F811
) -> None:
    engine, conv, author = _world(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as db, db.begin():
        row = INSERT.first(db.connection(), _values(conv, author, "c2", None))
        assert row is not None
        values = {**_values(conv, author, "c2", None), "id": row[0]}
        msg = load_into(db, Message, values)
        # Persistent, clean, and what the session answers for its identity.
        assert msg in db and not db.new and not db.dirty
        assert db.get(Message, row[0]) is msg
        assert load_into(db, Message, values) is msg  # a second row: the held instance
        # A change is tracked and flushed like any loaded instance's.
        msg.text = "changed"
        assert msg in db.dirty
        # A column left out is expired and read when first used.
        shop_id = db.scalar(select(Shop.id))
        shop = load_into(db, Shop, {"id": shop_id, "name": "S"})
        assert shop.timezone == "UTC"
        assert shop.region.country == "US"  # relationships load lazily as usual
    with sessions() as db:
        assert db.scalar(select(Message.text).where(Message.id == row[0])) == "changed"


def test_held_or_get_answers_from_the_session_or_asks_the_database(
    database_url: str,  # noqa: F811
) -> None:
    from sqlalchemy import event

    from shopdesk.store.prepared import held_or_get

    engine, _conv, _author = _world(database_url)
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: queries.append(statement))
    with make_sessionmaker(engine)() as db, db.begin():
        shop_id = db.scalar(select(Shop.id))
        queries.clear()
        shop = held_or_get(db, Shop, shop_id)  # not held: one query
        assert shop is not None and shop.name == "S" and len(queries) == 1
        assert held_or_get(db, Shop, shop_id) is shop and len(queries) == 1  # held: none
        assert held_or_get(db, Shop, -1) is None
