"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 05:07:48.867036
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("last_activity", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    op.create_table(
        "queues",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("access_key", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("last_used", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("access_key", name=op.f("pk_api_keys")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "login_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_login_tokens")),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=True),
        sa.Column("completed", sa.DateTime(), nullable=True),
        sa.Column("last_update", sa.DateTime(), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=True),
        sa.Column("worker_id", sa.String(length=32), nullable=True),
        sa.Column("abort_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_expires", sa.DateTime(), nullable=True),
        sa.Column("script", sa.JSON(), nullable=False),
        sa.Column("runtime", sa.JSON(), nullable=False),
        sa.Column("console_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_tasks_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tasks_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tasks_archived_created"), ["archived", "created"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tasks_last_update"), ["last_update"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_lease_expires"), ["lease_expires"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tasks_project_id_archived_created"),
            ["project_id", "archived", "created"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tasks_status_created"), ["status", "created"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tasks_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("registered", sa.DateTime(), nullable=False),
        sa.Column("last_heartbeat", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workers_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("name", name=op.f("uq_workers_name")),
    )
    op.create_table(
        "artifacts",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_artifacts_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "name", name=op.f("pk_artifacts")),
    )
    op.create_table(
        "configuration",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_configuration_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "name", name=op.f("pk_configuration")),
    )
    op.create_table(
        "console",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("stream", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_console_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "seq", name=op.f("pk_console")),
    )
    op.create_table(
        "event_batches",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_event_batches_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "batch_id", name=op.f("pk_event_batches")),
    )
    op.create_table(
        "hyperparams",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value_prefix", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_hyperparams_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "section", "name", name=op.f("pk_hyperparams")),
    )
    with op.batch_alter_table("hyperparams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hyperparams_section_name_value_prefix"),
            ["section", "name", "value_prefix"],
            unique=False,
        )

    op.create_table(
        "metric_summaries",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("iter", sa.Integer(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_metric_summaries_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "metric", "variant", name=op.f("pk_metric_summaries")),
    )
    op.create_table(
        "queue_entries",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("added", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_queue_entries_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_queue_entries_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_queue_entries")),
    )
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_entries_queue_id_priority_added"),
            ["queue_id", "priority", "added"],
            unique=False,
        )

    op.create_table(
        "scalars",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("iter", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_scalars_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scalars")),
    )
    with op.batch_alter_table("scalars", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scalars_task_id_metric_variant_iter"),
            ["task_id", "metric", "variant", "iter"],
            unique=False,
        )

    op.create_table(
        "task_tags",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_tags_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "tag", name=op.f("pk_task_tags")),
    )
    with op.batch_alter_table("task_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "texts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("iter", sa.Integer(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_texts_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_texts")),
    )
    with op.batch_alter_table("texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_texts_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_texts_task_id"))

    op.drop_table("texts")
    with op.batch_alter_table("task_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_tags_tag"))

    op.drop_table("task_tags")
    with op.batch_alter_table("scalars", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scalars_task_id_metric_variant_iter"))

    op.drop_table("scalars")
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_entries_queue_id_priority_added"))

    op.drop_table("queue_entries")
    op.drop_table("metric_summaries")
    with op.batch_alter_table("hyperparams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hyperparams_section_name_value_prefix"))

    op.drop_table("hyperparams")
    op.drop_table("event_batches")
    op.drop_table("console")
    op.drop_table("configuration")
    op.drop_table("artifacts")
    op.drop_table("workers")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_worker_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_status_created"))
        batch_op.drop_index(batch_op.f("ix_tasks_project_id_archived_created"))
        batch_op.drop_index(batch_op.f("ix_tasks_parent_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_name"))
        batch_op.drop_index(batch_op.f("ix_tasks_lease_expires"))
        batch_op.drop_index(batch_op.f("ix_tasks_last_update"))
        batch_op.drop_index(batch_op.f("ix_tasks_archived_created"))

    op.drop_table("tasks")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_user_id"))

    op.drop_table("sessions")
    op.drop_table("login_tokens")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("queues")
    op.drop_table("projects")
