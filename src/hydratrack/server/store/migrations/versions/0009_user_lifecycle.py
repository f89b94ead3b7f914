"""users.disabled and sessions.last_seen: disabling users, idle session expiry

A disabled user cannot sign in and its keys are refused; a session unused for
``--session-idle-hours`` ends (``last_seen``, refreshed at most once a minute). Sessions
made before this revision count from their creation.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("last_seen", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("last_seen")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled")
