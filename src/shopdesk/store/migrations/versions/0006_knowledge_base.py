"""knowledge base

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:39:19.042957
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopdesk.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("similar", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("preset_id", sa.String(length=120), nullable=True),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("tapped", sa.Integer(), nullable=False),
        sa.Column("auto_answered", sa.Integer(), nullable=False),
        sa.Column("handed_over", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("updated_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kb_entries_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entries")),
        sa.UniqueConstraint("shop_id", "key", name="uq_kb_entries_shop_key"),
    )
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_entries_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "kb_state",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seeded_at", shopdesk.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kb_state_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_kb_state")),
    )
    op.create_table(
        "kb_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["kb_entries.id"],
            name=op.f("fk_kb_cards_entry_id_kb_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kb_cards_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_cards")),
        sa.UniqueConstraint("shop_id", "entry_id", name="uq_kb_cards_shop_entry"),
    )
    with op.batch_alter_table("kb_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_cards_shop_id"), ["shop_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_cards_shop_id"))

    op.drop_table("kb_cards")
    op.drop_table("kb_state")
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_entries_shop_id"))

    op.drop_table("kb_entries")
