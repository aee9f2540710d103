"""review: a movie's held stages and its story versions

Revision ID: 0004_review
Revises: 0003_admissions
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_review"
down_revision = "0003_admissions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("movies") as batch:
        batch.add_column(sa.Column("hold", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("story_versions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("movies") as batch:
        batch.drop_column("story_versions")
        batch.drop_column("hold")
