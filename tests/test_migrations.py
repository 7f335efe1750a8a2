"""The same Alembic migrations build the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shopdesk.store.db import make_engine
from shopdesk.store.migrate import downgrade, upgrade
from shopdesk.store.models import Base
from tests.web.conftest import database_url, private_postgres  # noqa: F401  (fixtures)


@pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_migrations_match_models_and_round_trip(database_url: str) -> None:  # noqa: F811
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(database_url, "base")
    upgrade(database_url)
    engine.dispose()
