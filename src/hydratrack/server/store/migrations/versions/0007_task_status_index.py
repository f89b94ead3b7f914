"""tasks(archived, status, created): a status filter counted and paged from one index

Without it a status filter (``status=queued``) reads every live task's row to test its
status: ~40 ms to count 100k tasks on SQLite, and as long to find the first page of a
rare status. With it the count is a range of this index alone and a page ordered by
``created`` is read in order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_archived_status_created", "tasks", ["archived", "status", "created"])


def downgrade() -> None:
    op.drop_index("ix_tasks_archived_status_created", table_name="tasks")
