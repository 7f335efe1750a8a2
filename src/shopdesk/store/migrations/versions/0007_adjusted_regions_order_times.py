"""force-majeure adjusted regions; orders' shipped and delivered instants

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import shopdesk.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Before 0007 the after-sales checks read these instants from the terms snapshot, or took the
# order time for an order whose status said it had shipped / been delivered; the backfill
# keeps exactly those answers for existing orders.
SHIPPED = ("shipped", "delivered", "completed")
DELIVERED = ("delivered", "completed")


def _instant(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def upgrade() -> None:
    op.create_table(
        "adjusted_regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("region_codes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("created_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["declared_by_id"], ["users.id"], name=op.f("fk_adjusted_regions_declared_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["users.id"], name=op.f("fk_adjusted_regions_ended_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjusted_regions")),
    )
    with op.batch_alter_table("adjusted_regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adjusted_regions_ends_at"), ["ends_at"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shipped_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "delivered_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )

    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("placed_at", shopdesk.store.types.UTCDateTime(timezone=True)),
        sa.column("terms_snapshot", sa.JSON()),
        sa.column("shipped_at", shopdesk.store.types.UTCDateTime(timezone=True)),
        sa.column("delivered_at", shopdesk.store.types.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(orders.c.id, orders.c.status, orders.c.placed_at, orders.c.terms_snapshot)
    ).all()
    for oid, status, placed_at, snapshot in rows:
        snap = snapshot if isinstance(snapshot, dict) else {}
        shipped = _instant(snap.get("shipped_at")) or (placed_at if status in SHIPPED else None)
        delivered = _instant(snap.get("delivered_at")) or (
            placed_at if status in DELIVERED else None
        )
        if shipped is not None or delivered is not None:
            bind.execute(
                orders.update()
                .where(orders.c.id == oid)
                .values(shipped_at=shipped, delivered_at=delivered)
            )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("shipped_at")

    with op.batch_alter_table("adjusted_regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjusted_regions_ends_at"))

    op.drop_table("adjusted_regions")
