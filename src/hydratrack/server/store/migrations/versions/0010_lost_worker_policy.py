"""per-queue policy for a lost worker's task; a task's attempt count and queue place

``queues.lost_worker_policy`` (``fail`` or ``requeue``) and ``lost_worker_retries`` (how
many times a task of this queue is re-queued after its worker was lost). ``tasks.attempt``
counts the claims since the task was enqueued; ``queue_priority`` and ``enqueued`` keep
its place in the queue, so a re-queued task goes back where it stood.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "queues",
        sa.Column("lost_worker_policy", sa.String(16), nullable=False, server_default="fail"),
    )
    op.add_column(
        "queues",
        sa.Column("lost_worker_retries", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("tasks", sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
    op.add_column(
        "tasks", sa.Column("queue_priority", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("tasks", sa.Column("enqueued", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("enqueued")
        batch.drop_column("queue_priority")
        batch.drop_column("attempt")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("lost_worker_retries")
        batch.drop_column("lost_worker_policy")
