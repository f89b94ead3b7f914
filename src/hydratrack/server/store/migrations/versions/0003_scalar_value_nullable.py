"""scalar values may be null (a run reported NaN or an infinity)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scalars", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM scalars WHERE value IS NULL")
    with op.batch_alter_table("scalars", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=False)
