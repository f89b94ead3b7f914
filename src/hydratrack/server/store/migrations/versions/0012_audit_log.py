"""audit_log: who did what, when (server/audit.py decides what is recorded)

One row per state-changing request that succeeded (and per login attempt): the caller
(user id and name as they were, key or session, client address), the action, its target
and a small detail without secret values.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03 07:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.String(32)),
        sa.Column("user_name", sa.String(255)),
        sa.Column("via", sa.String(16)),
        sa.Column("access_key", sa.String(64)),
        sa.Column("address", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32)),
        sa.Column("target_id", sa.String(255)),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_time"), "audit_log", ["time"])
    op.create_index(op.f("ix_audit_log_user_name"), "audit_log", ["user_name"])
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"])
    op.create_index(op.f("ix_audit_log_target_id"), "audit_log", ["target_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
