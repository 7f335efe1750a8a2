"""The demo's knowledge bases: presets in each shop's language, cards and greetings (KB-3, KB-4)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from shopdesk.knowledge.presets import load_presets
from shopdesk.store import kb_repo
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.demo_kb import seed_kb
from shopdesk.store.migrate import upgrade
from shopdesk.store.models import Region, Shop
from shopdesk.store.models_kb import KBEntry

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_seed_kb_for_demo_shops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as db, db.begin():
        region = Region(code="US", name="US", country="US", policy="us")
        db.add(region)
        db.flush()
        for name, lang, greeting, demo in (
            ("en", "en", "Hi!", True),
            ("zh", "zh", "", True),
            ("real", "en", "", False),
        ):
            db.add(
                Shop(
                    region_id=region.id,
                    name=name,
                    timezone="UTC",
                    listing_language=lang,
                    greeting=greeting,
                    is_demo=demo,
                    created_at=NOW,
                )
            )
    with factory() as db, db.begin():
        assert seed_kb(db, NOW) == 2
    with factory() as db, db.begin():
        shops = {s.name: s for s in db.scalars(select(Shop))}
        en, zh, real = shops["en"], shops["zh"], shops["real"]
        assert kb_repo.card_keys(db, en.id) == [
            "en.logistics.tracking",
            "en.logistics.ship_time",
            "en.after_sale.return",
            "en.pre_sale.in_stock",
        ]
        assert kb_repo.card_keys(db, zh.id)[0] == "zh.logistics.tracking"
        assert en.greeting == "Hi!" and zh.greeting  # kept / filled in
        count = len(load_presets("en"))
        assert len(kb_repo.entry_rows(db, en.id)) == count
        assert len(kb_repo.entry_rows(db, zh.id)) == count + len(load_presets("zh"))
        assert kb_repo.entry_rows(db, real.id) == []
        # Idempotent.
        assert seed_kb(db, NOW) == 0
        assert db.scalar(select(func.count()).select_from(KBEntry)) == 2 * count + len(
            load_presets("zh")
        )
    engine.dispose()
