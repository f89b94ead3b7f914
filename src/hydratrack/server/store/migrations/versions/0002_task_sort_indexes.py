"""indexes for sorting the task list by last update and by name

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tasks_archived_last_update"), ["archived", "last_update"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tasks_archived_name"), ["archived", "name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_archived_name"))
        batch_op.drop_index(batch_op.f("ix_tasks_archived_last_update"))
