"""hardening: the admissions ledger (the day's quota) and api_keys.high_priority

Revision ID: 0003_admissions
Revises: 0002_gateway
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deepflix.db.access  # noqa: F401  (registers the tables on Base.metadata)

revision = "0003_admissions"
down_revision = "0002_gateway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("movie_id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admissions")),
    )
    op.create_index("ix_admissions_owner_at", "admissions", ["owner", "at"])
    # the films already in the table were admitted: the ledger starts with them
    op.execute("INSERT INTO admissions (owner, movie_id, at) SELECT owner, id, created_at FROM movies")
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("high_priority", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("high_priority")
    op.drop_index("ix_admissions_owner_at", table_name="admissions")
    op.drop_table("admissions")
