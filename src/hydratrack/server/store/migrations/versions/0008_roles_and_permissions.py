"""Roles, owners, per-project and per-queue permissions, scoped credentials

- ``users.role``: ``admin`` | ``member`` | ``viewer`` (``is_admin`` stays, kept equal to
  ``role == 'admin'`` by the store, for older readers);
- owners: ``projects.owner_id`` (filled from the first task's creator), ``queues.owner_id``;
- ``queues.access``: ``members`` (every member may enqueue) or ``granted`` (owner, admins
  and users in ``queue_permissions``);
- ``project_permissions``: a user's level on a project (read / edit / manage);
- ``api_keys.scope``: ``user`` (a person's key), ``agent`` (serves queues only) or
  ``task`` (one task's token, ``api_keys.task_id``); ``workers.access_key``: the key a
  worker name is bound to; ``workers.limits``: users/projects an agent takes tasks of.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="member"))
    op.execute("UPDATE users SET role = 'admin' WHERE is_admin")
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(32)))
    op.execute(
        "UPDATE projects SET owner_id = (SELECT t.user_id FROM tasks t"
        " WHERE t.project_id = projects.id AND t.user_id IS NOT NULL"
        " ORDER BY t.created LIMIT 1)"
    )
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(32)))
        batch.add_column(
            sa.Column("access", sa.String(16), nullable=False, server_default="members")
        )
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("access_key", sa.String(64)))
        batch.add_column(sa.Column("limits", sa.JSON))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="user"))
        batch.add_column(sa.Column("task_id", sa.String(32)))
        batch.create_index("ix_api_keys_task_id", ["task_id"])
    op.create_table(
        "project_permissions",
        sa.Column(
            "project_id",
            sa.String(32),
            sa.ForeignKey(
                "projects.id",
                ondelete="CASCADE",
                name="fk_project_permissions_project_id_projects",
            ),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_project_permissions_user_id_users"
            ),
            primary_key=True,
        ),
        sa.Column("level", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_project_permissions"),
    )
    op.create_table(
        "queue_permissions",
        sa.Column(
            "queue_id",
            sa.String(32),
            sa.ForeignKey(
                "queues.id", ondelete="CASCADE", name="fk_queue_permissions_queue_id_queues"
            ),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_queue_permissions_user_id_users"
            ),
            primary_key=True,
        ),
        sa.PrimaryKeyConstraint("queue_id", "user_id", name="pk_queue_permissions"),
    )


def downgrade() -> None:
    op.drop_table("queue_permissions")
    op.drop_table("project_permissions")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_task_id")
        batch.drop_column("task_id")
        batch.drop_column("scope")
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("limits")
        batch.drop_column("access_key")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("access")
        batch.drop_column("owner_id")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("owner_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("role")
