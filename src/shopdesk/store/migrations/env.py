from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from shopdesk.store.db import make_engine
from shopdesk.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
connectable = make_engine(url, poolclass=pool.NullPool)

with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
